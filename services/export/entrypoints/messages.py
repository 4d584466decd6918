"""Kafka subscribers of the export service."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

router = KafkaRouter()
