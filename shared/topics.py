"""Kafka topic names (CONTRACT.md): the CloudEvent `type` equals the topic name."""

from __future__ import annotations

EXPORT_REQUESTED = "contacts.export.requested"
EXPORT_READY = "contacts.export.ready"
EXPORT_FAILED = "contacts.export.failed"
IMPORT_PREPARED = "contacts.import.prepared"
IMPORT_VALIDATED = "contacts.import.validated"
IMPORT_START = "contacts.import.start"
IMPORT_PROGRESS = "contacts.import.progress"
IMPORT_FINISHED = "contacts.import.finished"
IMPORT_FAILED = "contacts.import.failed"
# Internal: the importer asks itself (any replica) to validate a confirmed import, so
# that the work runs off the HTTP request and survives a restart. Not for clients.
IMPORT_VALIDATE = "contacts.import.validate"

# Commands are consumed by the services; a message that cannot be processed goes to
# `<topic>.dlq` so that it never blocks its partition.
COMMAND_TOPICS: tuple[str, ...] = (EXPORT_REQUESTED, IMPORT_START, IMPORT_VALIDATE)
EVENT_TOPICS: tuple[str, ...] = (
    EXPORT_READY,
    EXPORT_FAILED,
    IMPORT_PREPARED,
    IMPORT_VALIDATED,
    IMPORT_PROGRESS,
    IMPORT_FINISHED,
    IMPORT_FAILED,
)
JOB_TOPICS: tuple[str, ...] = COMMAND_TOPICS + EVENT_TOPICS
JOB_TOPIC_PARTITIONS = 6


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


DLQ_TOPICS: tuple[str, ...] = tuple(dlq(t) for t in COMMAND_TOPICS)
DLQ_TOPIC_PARTITIONS = 1
