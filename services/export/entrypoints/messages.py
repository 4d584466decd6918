"""Kafka subscribers of the export service."""

from __future__ import annotations

from typing import Any

from faststream import Context
from faststream.kafka import KafkaRouter

from shared import topics
from shared.cloudevents import CloudEvent
from shared.events import ExportRequested
from shared.kafka import COMMAND_ACK_POLICY

CONSUMER_GROUP = "crm-bulk-export"


def build_router(consumer_group: str = CONSUMER_GROUP) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        topics.EXPORT_REQUESTED,
        group_id=consumer_group,
        auto_offset_reset="earliest",
        ack_policy=COMMAND_ACK_POLICY,
        # One export of a million contacts takes about a minute; leave ample room before
        # Kafka takes the partition away from a busy (not dead) consumer.
        max_poll_interval_ms=30 * 60 * 1000,
        title="on_export_requested",
        description="Builds the requested file and publishes contacts.export.ready or contacts.export.failed.",
    )
    async def on_export_requested(event: CloudEvent[ExportRequested], deps: Any = Context("deps")) -> None:
        await deps.builder.handle(event.data)

    return router
