"""Poison messages on a consumed topic go to `<topic>.dlq` with the reason, emit the job's
`*.failed` event when a job id is readable, and never block their partition."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from faststream.kafka import KafkaBroker

from shared import topics
from shared.cloudevents import CloudEvent, event_body, kafka_headers, make_event
from shared.events import StartImport
from shared.kafka import COMMAND_ACK_POLICY, PoisonMessage, create_broker, publish_event
from shared.settings import KafkaSettings
from tests.integration.platform.kafka_tools import (
    TopicTail,
    committed_offsets,
    header,
    start_group_at_end,
    unique,
)
from tests.support.stack import KAFKA_BOOTSTRAP

SOURCE = "/crm-bulk/tests/platform"
# What this test's consumer signs its dead letters and failed events with: the session's
# importer consumes the same topic in its own group and dead-letters the same poison.
CONSUMER_SOURCE = "/crm-bulk/tests/platform-consumer"
ACCOUNT = 910_002


class Handled:
    def __init__(self) -> None:
        self.import_ids: list[str] = []


@pytest.fixture
async def consumer() -> AsyncIterator[tuple[KafkaBroker, Handled, str]]:
    """A real consumer group on contacts.import.start that reads from now on; its handler
    refuses the account of `requested_by="unknown-account"` as poison."""
    group = unique("test-platform-dlq")
    await start_group_at_end(group, topics.IMPORT_START)
    broker = create_broker(KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP), "platform-test", CONSUMER_SOURCE)
    handled = Handled()

    @broker.subscriber(topics.IMPORT_START, group_id=group, auto_offset_reset="earliest", ack_policy=COMMAND_ACK_POLICY)
    async def on_start_import(event: CloudEvent[StartImport]) -> None:
        if event.data.requested_by == "unknown-account":
            raise PoisonMessage("unknown_account", f"account {event.data.account_id} does not exist")
        handled.import_ids.append(str(event.data.import_id))

    await broker.start()
    yield broker, handled, group
    await broker.stop()


def envelope(data: dict[str, object]) -> bytes:
    return json.dumps(
        {"specversion": "1.0", "id": str(uuid.uuid4()), "source": SOURCE, "type": topics.IMPORT_START, "data": data}
    ).encode()


async def test_poison_messages_are_dead_lettered_and_the_partition_moves_on(
    consumer: tuple[KafkaBroker, Handled, str],
) -> None:
    broker, handled, group = consumer
    key = str(uuid.uuid4())  # one key for all: one partition, in this order
    schema_job, unknown_job, good_job = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    poison = {
        "invalid_json": b"{not json at all",
        # `requested_by` is missing: the contract's schema is not met.
        "schema_mismatch": envelope({"account_id": ACCOUNT, "import_id": str(schema_job)}),
        "unknown_account": event_body(
            make_event(
                SOURCE,
                topics.IMPORT_START,
                str(unknown_job),
                StartImport(account_id=ACCOUNT, import_id=unknown_job, requested_by="unknown-account"),
            )
        ),
    }
    async with TopicTail(topics.dlq(topics.IMPORT_START), topics.IMPORT_FAILED) as tail:
        for body in poison.values():
            await broker.publish(body, topics.IMPORT_START, key=key.encode(), headers=kafka_headers())
        good = StartImport(account_id=ACCOUNT, import_id=good_job, requested_by="platform@test")
        await publish_event(broker, SOURCE, topics.IMPORT_START, key, good)

        original_offsets: dict[str, int] = {}
        for code, body in poison.items():
            dead = await tail.wait_for(
                lambda r, code=code, body=body: (
                    r.topic == topics.dlq(topics.IMPORT_START)
                    and r.key == key.encode()
                    and header(r, "dlq-reason-code") == code
                    and header(r, "dlq-source") == CONSUMER_SOURCE
                    and r.value == body
                )
            )
            assert header(dead, "dlq-original-topic") == topics.IMPORT_START
            assert header(dead, "dlq-reason"), "the reason is said in words too"
            original_offsets[code] = int(header(dead, "dlq-original-offset") or -1)
            partition = int(header(dead, "dlq-original-partition") or -1)

        for job, code in ((schema_job, "schema_mismatch"), (unknown_job, "unknown_account")):
            failed = await tail.wait_for(
                lambda r, job=job: r.topic == topics.IMPORT_FAILED
                and r.key == str(job).encode()
                and json.loads(r.value).get("source") == CONSUMER_SOURCE
            )
            event = json.loads(failed.value)
            assert event["type"] == topics.IMPORT_FAILED
            assert event["data"]["import_id"] == str(job)
            assert event["data"]["account_id"] == ACCOUNT
            assert event["data"]["code"] == code
            assert header(failed, "content-type") == "application/cloudevents+json"

    deadline = time.monotonic() + 30
    while str(good_job) not in handled.import_ids:
        assert time.monotonic() < deadline, "the good message after the poison was not processed"
        await asyncio.sleep(0.1)

    # Everything up to the good message is committed: no poison comes back after a restart.
    # The good message follows the last poison one in the same partition.
    assert original_offsets["invalid_json"] < original_offsets["schema_mismatch"] < original_offsets["unknown_account"]
    after_good = original_offsets["unknown_account"] + 2
    deadline = time.monotonic() + 20
    while (committed := await committed_offsets(group)).get(partition) != after_good:
        assert time.monotonic() < deadline, f"offsets not committed past the good message: {committed}"
        await asyncio.sleep(0.2)
