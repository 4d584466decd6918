"""Kafka subscribers of the importer service."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

router = KafkaRouter()
