"""Kafka subscribers of the importer service: the public start command and the internal
validate command. Both commit only after the handler succeeds (redelivery otherwise)."""

from __future__ import annotations

from typing import Any

from faststream import Context
from faststream.kafka import KafkaRouter

from shared import topics
from shared.cloudevents import CloudEvent
from shared.events import StartImport, ValidateImport
from shared.kafka import COMMAND_ACK_POLICY
from shared.topics import IMPORT_VALIDATE

CONSUMER_GROUP = "crm-bulk-importer"
# A million-row validation or run takes minutes; leave room before Kafka takes the
# partition away from a busy (not dead) consumer.
MAX_POLL_INTERVAL_MS = 60 * 60 * 1000


def build_router(consumer_group: str = CONSUMER_GROUP) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        topics.IMPORT_START,
        group_id=consumer_group,
        auto_offset_reset="earliest",
        ack_policy=COMMAND_ACK_POLICY,
        max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
        title="on_start_import",
        description="Applies a validated import once (a repeated or redelivered start does nothing "
        "new); publishes contacts.import.progress, then contacts.import.finished or "
        "contacts.import.failed.",
    )
    async def on_start_import(event: CloudEvent[StartImport], deps: Any = Context("deps")) -> None:
        await deps.apply.handle(event.data)

    @router.subscriber(
        IMPORT_VALIDATE,
        group_id=consumer_group,
        auto_offset_reset="earliest",
        ack_policy=COMMAND_ACK_POLICY,
        max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
        title="on_validate_import",
        description="Internal: validates a confirmed import; publishes contacts.import.validated.",
    )
    async def on_validate_import(event: CloudEvent[ValidateImport], deps: Any = Context("deps")) -> None:
        await deps.validate.handle(event.data)

    return router
