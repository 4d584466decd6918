"""Waiting for a job's outcome: the event on Kafka when the broker is reachable from this
machine, the job's state over HTTP when it is not.

The consumer has no group (it takes no partition from the services) and is positioned at
the end of the outcome topics *before* the job is requested, so the outcome cannot slip
past between the request and the first read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

CONNECT_TIMEOUT_S = 5.0
# Even with Kafka, look at the state now and then: a job that had already finished
# (a repeated export id) announces nothing new.
SAFETY_POLL_S = 5.0


@dataclass(frozen=True)
class JobOutcome:
    topic_or_state: str
    data: dict[str, Any]


class OutcomeWatcher:
    """`async with OutcomeWatcher(bootstrap, topics) as watcher:` … request the job …
    `await watcher.wait(job_id, poll, finished)`."""

    def __init__(self, bootstrap: str | None, topics: Sequence[str]) -> None:
        self.bootstrap = bootstrap
        self.topics = tuple(topics)
        self.consumer: AIOKafkaConsumer | None = None

    @property
    def listening(self) -> bool:
        return self.consumer is not None

    async def __aenter__(self) -> OutcomeWatcher:
        if self.bootstrap and self.bootstrap.lower() not in ("off", "none", "-"):
            try:
                self.consumer = await asyncio.wait_for(self._positioned_consumer(), CONNECT_TIMEOUT_S)
            except (TimeoutError, KafkaError, OSError, LookupError):
                self.consumer = None
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await self.consumer.stop()

    async def _positioned_consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, request_timeout_ms=10_000
        )
        await consumer.start()
        try:
            await consumer.topics()  # loads the cluster's metadata, partitions included
            partitions = []
            for topic in self.topics:
                found = consumer.partitions_for_topic(topic)
                if not found:
                    raise LookupError(topic)
                partitions.extend(TopicPartition(topic, p) for p in found)
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for partition in partitions:
                await consumer.position(partition)
        except BaseException:
            await consumer.stop()
            raise
        return consumer

    async def wait(
        self,
        job_id: str,
        poll: Callable[[], dict[str, Any]],
        finished: Callable[[dict[str, Any]], bool],
        timeout_s: float,
    ) -> JobOutcome:
        """The first outcome event keyed by `job_id`, or the polled state once `finished`
        says it is final. Raises TimeoutError."""
        deadline = time.monotonic() + timeout_s
        next_poll = time.monotonic() + (SAFETY_POLL_S if self.listening else 0)
        while time.monotonic() < deadline:
            if self.consumer is not None:
                event = await self._next_event(job_id)
                if event is not None:
                    return event
            else:
                await asyncio.sleep(0.5)
            if time.monotonic() >= next_poll:
                state = await asyncio.to_thread(poll)
                if finished(state):
                    return JobOutcome(state["state"], state)
                next_poll = time.monotonic() + (SAFETY_POLL_S if self.listening else 1.0)
        raise TimeoutError(job_id)

    async def _next_event(self, job_id: str) -> JobOutcome | None:
        assert self.consumer is not None
        batches = await self.consumer.getmany(timeout_ms=500)
        for records in batches.values():
            for record in records:
                if record.key is None or record.key.decode(errors="replace") != job_id:
                    continue
                event = _structured_event(record.value)
                if event is not None and isinstance(event.get("data"), dict):
                    return JobOutcome(record.topic, event["data"])
        return None


def _structured_event(value: bytes | None) -> dict[str, Any] | None:
    try:
        event = json.loads(value or b"")
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
