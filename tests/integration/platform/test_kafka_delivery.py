"""CloudEvents through FastStream on the real Kafka: the structured-mode wire format, and
offsets committed only after the handler succeeds (a killed consumer means redelivery)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cloudevents.v1.kafka import KafkaMessage, from_structured
from faststream.kafka import KafkaBroker

from shared import topics
from shared.cloudevents import STRUCTURED_CONTENT_TYPE
from shared.events import StartImport
from shared.kafka import create_broker, publish_event
from shared.settings import KafkaSettings
from tests.integration.platform.kafka_tools import (
    TopicTail,
    committed_offsets,
    create_topic,
    header,
    unique,
)
from tests.support.stack import KAFKA_BOOTSTRAP, ROOT

SOURCE = "/crm-bulk/tests/platform"


@pytest.fixture
async def publisher() -> AsyncIterator[KafkaBroker]:
    broker = create_broker(KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP), "platform-test")
    await broker.start()
    yield broker
    await broker.stop()


def start_import(import_id: uuid.UUID) -> StartImport:
    return StartImport(account_id=910_001, import_id=import_id, requested_by="platform@test")


async def test_event_is_structured_cloudevent_keyed_by_job_id(publisher: KafkaBroker) -> None:
    topic = await create_topic(partitions=6)
    import_id = uuid.uuid4()
    async with TopicTail(topic) as tail:
        sent = await publish_event(publisher, SOURCE, topic, str(import_id), start_import(import_id))
        record = await tail.wait_for(lambda r: r.key == str(import_id).encode())

    assert header(record, "content-type") == STRUCTURED_CONTENT_TYPE
    headers = {k: v for k, v in record.headers}
    event = from_structured(KafkaMessage(headers=headers, key=record.key, value=record.value))
    assert event["specversion"] == "1.0"
    assert event["id"] == sent.id
    assert event["source"] == SOURCE
    assert event["type"] == topic
    assert event["subject"] == str(import_id)
    assert event["time"]
    assert event.data["import_id"] == str(import_id)
    assert event.data["account_id"] == 910_001
    # The envelope itself says its data is JSON (the header is about the envelope).
    assert json.loads(record.value)["datacontenttype"] == "application/json"


async def test_contract_topic_carries_the_same_format(publisher: KafkaBroker) -> None:
    import_id = uuid.uuid4()
    async with TopicTail(topics.IMPORT_START) as tail:
        await publish_event(publisher, SOURCE, topics.IMPORT_START, str(import_id), start_import(import_id))
        record = await tail.wait_for(lambda r: r.key == str(import_id).encode())
    assert header(record, "content-type") == STRUCTURED_CONTENT_TYPE
    assert json.loads(record.value)["type"] == topics.IMPORT_START


class ConsumerProcess:
    """tests/integration/platform/consumer_process.py as a real process."""

    def __init__(self, topic: str, group: str, mode: str, workdir: Path, name: str) -> None:
        self.journal = workdir / f"{name}.journal"
        self.journal.touch()
        self._log = (workdir / f"{name}.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.platform.consumer_process",
                topic,
                group,
                str(self.journal),
                mode,
            ],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def lines(self) -> list[str]:
        return self.journal.read_text().splitlines()

    async def wait_line(self, line: str, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while line not in self.lines():
            if self.process.poll() is not None:
                raise RuntimeError(f"consumer exited {self.process.returncode}; see {self._log.name}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {line!r} in {timeout_s} s: {self.lines()}; see {self._log.name}")
            await asyncio.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def consumers(tmp_path: Path) -> Iterator[list[ConsumerProcess]]:
    started: list[ConsumerProcess] = []
    yield started
    for consumer in started:
        consumer.stop(signal.SIGKILL)


async def test_offset_is_committed_only_after_the_handler_succeeds(
    publisher: KafkaBroker, consumers: list[ConsumerProcess], tmp_path: Path
) -> None:
    topic = await create_topic()
    group = unique("test-platform-group")
    first, second = uuid.uuid4(), uuid.uuid4()
    await publish_event(publisher, SOURCE, topic, str(first), start_import(first))

    def consumer(mode: str, name: str) -> ConsumerProcess:
        consumers.append(ConsumerProcess(topic, group, mode, tmp_path, name))
        return consumers[-1]

    # 1. Killed inside the handler: nothing was committed...
    doomed = consumer("hang", "doomed")
    await doomed.wait_line(f"received {first}")
    doomed.stop(signal.SIGKILL)
    assert await committed_offsets(group) == {}

    # 2. ...so the next member of the group receives the same message, and commits it.
    survivor = consumer("succeed", "survivor")
    await survivor.wait_line(f"handled {first}")
    deadline = time.monotonic() + 20
    while await committed_offsets(group) != {0: 1}:
        assert time.monotonic() < deadline, "the offset was not committed after success"
        await asyncio.sleep(0.2)
    survivor.stop()

    # 3. A restarted member does not receive the handled message again: it gets only the
    #    next one (which, in a single partition, comes after it).
    restarted = consumer("succeed", "restarted")
    await restarted.wait_line("started")
    await publish_event(publisher, SOURCE, topic, str(second), start_import(second))
    await restarted.wait_line(f"handled {second}")
    assert f"received {first}" not in restarted.lines()
