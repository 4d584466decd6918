"""Watching the real Kafka topics from a test: every event published after the watcher
started, found by topic and job id (the record key)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.support.stack import KAFKA_BOOTSTRAP


@dataclass(frozen=True)
class SeenEvent:
    topic: str
    key: str | None
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        return self.body["data"]


class EventWatcher:
    """Reads the given topics from their current end, without a consumer group (so it
    never takes partitions away from the services)."""

    def __init__(self, topics: Iterable[str], source_prefix: str | None = None) -> None:
        self.topics = tuple(topics)
        # Only events of this test session's services (see tests/conftest.py).
        self.source_prefix = source_prefix if source_prefix is not None else os.environ.get(
            "CRM_BULK_TEST_EVENT_SOURCE", ""
        )
        self.seen: list[SeenEvent] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventWatcher:
        consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP, enable_auto_commit=False)
        await consumer.start()
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in (consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the end offsets now, before anything is published
            await consumer.position(tp)
        self._consumer = consumer
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _read(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            try:
                body = json.loads(record.value or b"")
            except ValueError:
                body = {"raw": (record.value or b"").decode(errors="replace")}
            if not str(body.get("source", "")).startswith(self.source_prefix):
                continue
            self.seen.append(
                SeenEvent(
                    topic=record.topic,
                    key=record.key.decode() if record.key else None,
                    headers={k: v.decode(errors="replace") for k, v in record.headers or ()},
                    body=body,
                )
            )

    def events(self, topic: str, key: str | None = None) -> list[SeenEvent]:
        return [e for e in self.seen if e.topic == topic and (key is None or e.key == key)]

    async def wait_for(self, topic: str, key: str, timeout_s: float = 60.0) -> SeenEvent:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.events(topic, key)
            if found:
                return found[0]
            await asyncio.sleep(0.1)
        seen = [(e.topic, e.key) for e in self.seen]
        raise TimeoutError(f"no {topic} event for {key} in {timeout_s} s; seen: {seen}")

    async def wait_for_any(self, topics: Iterable[str], key: str, timeout_s: float = 60.0) -> SeenEvent:
        wanted = tuple(topics)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for event in self.seen:
                if event.topic in wanted and event.key == key:
                    return event
            await asyncio.sleep(0.1)
        raise TimeoutError(f"none of {wanted} for {key} in {timeout_s} s")


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} does not exist")
