"""Kafka with FastStream: the broker factory, CloudEvent publishing, the dead-letter
middleware and the project's topics.

Consumers commit only after their handler succeeds (`AckPolicy.NACK_ON_ERROR`), so a
crash means redelivery and every handler is idempotent. A message that can never be
processed (not JSON, wrong schema, unknown account: a `PoisonMessage`) must not block its
partition: the middleware copies it to `<topic>.dlq` with the reason, emits the job's
`*.failed` event when a job id can be read from it, and lets the offset be committed.
Any other error is taken as transient: the offset is not committed and the message is
delivered again after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import pydantic
from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy, BaseMiddleware
from faststream.exceptions import SubscriberNotFound
from faststream.kafka import KafkaBroker

from shared import events, topics
from shared.cloudevents import CloudEvent, event_body, kafka_headers, make_event
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

# What consumers of commands use: commit after success, redeliver after failure.
COMMAND_ACK_POLICY = AckPolicy.NACK_ON_ERROR
TRANSIENT_ERROR_PAUSE_S = 2.0


class PoisonMessage(Exception):
    """A message that will never be processed, whatever the retries. `announce=False`
    when the handler has already published the job's `*.failed` event itself (in the
    user's language, with the job recorded as failed)."""

    def __init__(self, code: str, message: str, announce: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.announce = announce


def create_broker(
    settings: KafkaSettings, service: str, event_source: str | None = None, **kwargs: Any
) -> KafkaBroker:
    broker = KafkaBroker(
        settings.bootstrap_servers,
        client_id=f"{settings.client_id_prefix}-{service}",
        # Topics are created by the project (`ensure_topics`), never by a typo.
        allow_auto_create_topics=False,
        enable_idempotence=True,
        acks="all",
        graceful_timeout=30.0,
        decoder=decode_json_body,
        middlewares=[DeadLetterMiddleware],
        description=f"crm-bulk {service} service",
        **kwargs,
    )
    DeadLetterMiddleware.brokers[id(broker.context)] = (broker, event_source or f"/crm-bulk/{service}")
    return broker


async def decode_json_body(msg: Any, original_decoder: Callable[..., Any]) -> Any:
    """CloudEvents in structured mode carry `application/cloudevents+json`, which FastStream
    does not take for JSON; every message of ours is JSON, whatever its content type."""
    return json.loads(msg.body)


async def publish_event(
    broker: KafkaBroker, source: str, topic: str, key: str, data: pydantic.BaseModel
) -> CloudEvent[Any]:
    """Publishes `data` as a structured CloudEvent keyed by the job id."""
    event = make_event(source, topic, key, data)
    await broker.publish(event_body(event), topic, key=key.encode(), headers=kafka_headers())
    return event


def _job_failed_event(
    topic: str, raw_value: bytes | None, code: str, message: str
) -> tuple[str, str, pydantic.BaseModel] | None:
    """The `*.failed` event for a poison command, when its account and job id are readable."""
    try:
        body = json.loads(raw_value or b"")
        data = body["data"]
        account_id = int(data["account_id"])
    except (ValueError, KeyError, TypeError):
        return None
    try:
        if topic == topics.EXPORT_REQUESTED:
            export_id = str(data["export_id"])
            failed: pydantic.BaseModel = events.ExportFailed(
                account_id=account_id, export_id=export_id, code=code, message=message
            )
            return topics.EXPORT_FAILED, export_id, failed
        if topic in (topics.IMPORT_START, topics.IMPORT_VALIDATE):
            import_id = str(data["import_id"])
            failed = events.ImportFailed(account_id=account_id, import_id=import_id, code=code, message=message)
            return topics.IMPORT_FAILED, import_id, failed
    except (KeyError, pydantic.ValidationError):
        return None
    return None


# Handler parameters that FastStream fills from its context, not from the message: an
# error about them is the service's (e.g. not wired yet), never the message's fault.
CONTEXT_PARAMETERS = frozenset({"deps"})


def _about_handler_dependencies(exc: pydantic.ValidationError) -> bool:
    return any(error["loc"] and error["loc"][0] in CONTEXT_PARAMETERS for error in exc.errors())


def _poison_reason(exc: BaseException) -> tuple[str, str] | None:
    if isinstance(exc, PoisonMessage):
        return exc.code, exc.message
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return "invalid_json", f"the message is not JSON: {exc}"
    if isinstance(exc, pydantic.ValidationError) and not _about_handler_dependencies(exc):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        return "schema_mismatch", f"the message does not match the contract: {problems}"
    if isinstance(exc, SubscriberNotFound):
        return "no_handler", "no handler accepts this message"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        return _poison_reason(cause)
    return None


class DeadLetterMiddleware(BaseMiddleware):
    # FastStream builds a middleware per message with the broker's context; this maps
    # that context back to its broker, to publish with the same producer.
    brokers: dict[int, tuple[KafkaBroker, str]] = {}  # noqa: RUF012

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: Any = None,
    ) -> bool | None:
        if exc_val is None or not isinstance(self.msg, ConsumerRecord):
            return False
        if isinstance(exc_val, asyncio.CancelledError):
            return False
        reason = _poison_reason(exc_val)
        if reason is None:
            log.warning("transient failure on %s, will retry: %r", self.msg.topic, exc_val)
            await asyncio.sleep(TRANSIENT_ERROR_PAUSE_S)
            return False
        found = self.brokers.get(id(self.context))
        if found is None:
            return False
        broker, source = found
        announce = not (isinstance(exc_val, PoisonMessage) and not exc_val.announce)
        await send_to_dead_letter(broker, self.msg, *reason, source=source, announce=announce)
        return True  # handled: the offset is committed, the partition moves on


async def send_to_dead_letter(
    broker: KafkaBroker,
    record: ConsumerRecord,
    code: str,
    message: str,
    source: str = "/crm-bulk/dead-letter",
    announce: bool = True,
) -> None:
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    headers.update(
        {
            "dlq-reason-code": code,
            "dlq-reason": message[:1000],
            "dlq-original-topic": record.topic,
            "dlq-original-partition": str(record.partition),
            "dlq-original-offset": str(record.offset),
            # Each consumer group of a topic dead-letters on its own: say whose copy this is.
            "dlq-source": source,
        }
    )
    log.error("dead-lettered %s[%s]@%s: %s: %s", record.topic, record.partition, record.offset, code, message)
    await broker.publish(record.value or b"", topics.dlq(record.topic), key=record.key, headers=headers)
    failed = _job_failed_event(record.topic, record.value, code, message) if announce else None
    if failed is not None:
        failed_topic, job_id, data = failed
        await publish_event(broker, source, failed_topic, job_id, data)


async def ensure_topics(settings: KafkaSettings, timeout_s: float = 30.0) -> None:
    """Creates the project's topics with explicit partition counts (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=int(timeout_s * 1000))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, topics.JOB_TOPIC_PARTITIONS, 1) for name in topics.JOB_TOPICS if name not in existing
        ] + [NewTopic(name, topics.DLQ_TOPIC_PARTITIONS, 1) for name in topics.DLQ_TOPICS if name not in existing]
        for topic in wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([topic])
    finally:
        await admin.close()
