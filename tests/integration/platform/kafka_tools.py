"""Kafka helpers for the platform tests: private topics and reading what a topic
receives from now on, with plain aiokafka clients (independent of the code under test)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from types import TracebackType

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.support.stack import KAFKA_BOOTSTRAP


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def create_topic(partitions: int = 1, bootstrap: str = KAFKA_BOOTSTRAP) -> str:
    """A topic of this test's own (the broker does not auto-create topics)."""
    name = unique("test.platform")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def committed_offsets(group_id: str, bootstrap: str = KAFKA_BOOTSTRAP) -> dict[int, int]:
    """The consumer group's committed offset per partition (no entry: nothing committed)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


class TopicTail:
    """Reads every record that `topics` receive after entering the context."""

    def __init__(self, *topics: str, bootstrap: str = KAFKA_BOOTSTRAP) -> None:
        self.topics = topics
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.records: list[ConsumerRecord] = []

    async def __aenter__(self) -> TopicTail:
        await self._consumer.start()
        partitions = [TopicPartition(topic, p) for topic in self.topics for p in sorted(await self._partitions(topic))]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolve the end offsets now, before anything is published
            await self._consumer.position(tp)
        return self

    async def _partitions(self, topic: str) -> set[int]:
        await self._consumer._client.force_metadata_update()
        found = self._consumer.partitions_for_topic(topic)
        if not found:
            raise LookupError(f"topic {topic} does not exist")
        return found

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._consumer.stop()

    async def wait_for(self, match: Callable[[ConsumerRecord], bool], timeout_s: float = 30.0) -> ConsumerRecord:
        """The first record (seen so far or arriving within `timeout_s`) that matches."""
        deadline = time.monotonic() + timeout_s
        seen = 0
        while True:
            for record in self.records[seen:]:
                if match(record):
                    return record
            seen = len(self.records)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching record on {self.topics} in {timeout_s} s")
            batches = await self._consumer.getmany(timeout_ms=int(min(left, 1.0) * 1000))
            for batch in batches.values():
                self.records.extend(batch)

    async def records_with_key(self, key: bytes, settle_s: float = 0.0) -> list[ConsumerRecord]:
        if settle_s:
            await asyncio.sleep(settle_s)
            batches = await self._consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                self.records.extend(batch)
        return [r for r in self.records if r.key == key]


def header(record: ConsumerRecord, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    return None


async def start_group_at_end(group_id: str, topic: str, bootstrap: str = KAFKA_BOOTSTRAP) -> None:
    """Commits the current end offsets for a new group, so that its members read only what
    is published from now on (even with auto_offset_reset="earliest")."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        await consumer.commit({tp: await consumer.position(tp) for tp in partitions})
    finally:
        await consumer.stop()
