"""Poison, duplicated and reordered commands against the REAL services of this session
(the `services` fixture): every consumed topic (`contacts.export.requested`,
`contacts.import.start`, `contacts.import.validate`).

Other deployments may share the Kafka cluster and see the records published here, so
every poison record is recognisable (unique keys and job ids), and what is asserted is
what THIS session's services did: their events carry the source `/<instance>/…`, and
their consumer group's committed offsets prove that the partition moved on.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import RecordMetadata
from minio import Minio

from services.export.adapters.export_repository import ExportRepository
from shared import topics
from shared.cloudevents import event_body, kafka_headers, make_event
from shared.events import ExportRequested, StartImport, ValidateImport
from shared.postgres import init_connection
from shared.s3 import create_client
from shared.settings import S3Settings
from tests.conftest import Services
from tests.integration.platform.kafka_tools import TopicTail, header
from tests.support import journey
from tests.support.accounts import TestAccount, contacts_test_dsn, create_account
from tests.support.events import EventWatcher
from tests.support.stack import KAFKA_BOOTSTRAP, PG_PORT, S3_ENDPOINT

pytestmark = [pytest.mark.infra, pytest.mark.services, pytest.mark.timeout(120)]

RAW_SOURCE = "/crm-bulk/tests/reliability"
EXPORT_OUTCOMES = (topics.EXPORT_READY, topics.EXPORT_FAILED)
IMPORT_OUTCOMES = (topics.IMPORT_FINISHED, topics.IMPORT_FAILED)
SETTLE_S = 2.5  # room for a late duplicate to be (not) acted on


# --- Kafka, raw -------------------------------------------------------------------------


def partition_of(key: str, partitions: int = topics.JOB_TOPIC_PARTITIONS) -> int:
    """Where the services' producer (aiokafka's murmur2 partitioner) puts this key."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(key.encode(), every, every))


async def send_raw(
    topic: str, value: bytes, key: str, partition: int | None = None, *, times: int = 1
) -> list[RecordMetadata]:
    """Publishes `value` as is (`times` identical records), as any client could."""
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP)
    await producer.start()
    try:
        headers = [(k, v.encode()) for k, v in kafka_headers().items()]
        return [
            await producer.send_and_wait(topic, value, key=key.encode(), partition=partition, headers=headers)
            for _ in range(times)
        ]
    finally:
        await producer.stop()


def command_body(topic: str, key: str, data: Any) -> bytes:
    return event_body(make_event(RAW_SOURCE, topic, key, data))


def envelope(topic: str, data: dict[str, Any]) -> bytes:
    """A CloudEvent whose `data` need not meet the contract."""
    return json.dumps(
        {"specversion": "1.0", "id": str(uuid.uuid4()), "source": RAW_SOURCE, "type": topic, "data": data}
    ).encode()


async def group_offsets(group: str) -> dict[tuple[str, int], int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def wait_committed_past(group: str, topic: str, partition: int, offset: int, timeout_s: float = 30) -> None:
    """The group's committed offset on the partition is beyond `offset`: the record was
    acknowledged and will never come back."""
    deadline = time.monotonic() + timeout_s
    while True:
        committed = (await group_offsets(group)).get((topic, partition), -1)
        if committed > offset:
            return
        assert time.monotonic() < deadline, f"{group} did not commit {topic}[{partition}] past {offset}: {committed}"
        await asyncio.sleep(0.3)


async def dead_letters_of(tail: TopicTail, topic: str, sent: RecordMetadata, timeout_s: float = 30) -> Any:
    """The DLQ copy of the record at `sent`'s offset."""
    return await tail.wait_for(
        lambda r: (
            r.topic == topics.dlq(topic)
            and header(r, "dlq-original-topic") == topic
            and header(r, "dlq-original-partition") == str(sent.partition)
            and header(r, "dlq-original-offset") == str(sent.offset)
        ),
        timeout_s,
    )


async def no_dead_letter(topic: str, sent: RecordMetadata) -> bool:
    """Reads the DLQ topic from its beginning of recent records: is there a copy of `sent`?"""
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topics.dlq(topic), 0)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, max(0, end - 500))
        batches = await consumer.getmany(tp, timeout_ms=1500, max_records=500)
        for record in batches.get(tp, []):
            if (
                header(record, "dlq-original-topic") == topic
                and header(record, "dlq-original-partition") == str(sent.partition)
                and header(record, "dlq-original-offset") == str(sent.offset)
            ):
                return False
        return True
    finally:
        await consumer.stop()


def our_group(service: Any) -> str:
    prefix = {"export": "EXPORT_", "importer": "IMPORTER_"}[service.name]
    return str(service.env[f"{prefix}CONSUMER_GROUP"])


# --- accounts, contacts, imports ---------------------------------------------------------


async def seed_contacts(account: TestAccount, count: int) -> list[int]:
    """`count` contacts `Pessoa <n>` in one statement (the HTTP API is slow for many)."""
    conn = await asyncpg.connect(contacts_test_dsn())
    try:
        rows = await conn.fetch(
            """
            INSERT INTO contacts (account_id, name, emails, lifecycle_stage, legal_entity)
            SELECT $1::bigint, 'Pessoa ' || n, ARRAY['pessoa' || n || '.' || $1::text || '@exemplo.com.br'],
                   'lead', false
            FROM generate_series(1, $2) AS n
            RETURNING id
            """,
            account.account_id,
            count,
        )
    finally:
        await conn.close()
    return sorted(r["id"] for r in rows)


def rename_sheet(ids: list[int], suffix: str = "Souza") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["ID", "Nome", "Empresa"])
    for position, contact_id in enumerate(ids, start=1):
        writer.writerow([contact_id, f"Pessoa {position} {suffix}", f"Empresa {position}"])
    return out.getvalue().encode("utf-8-sig")


async def prepared_import(services: Services, account: TestAccount, ids: list[int]) -> str:
    response = await journey.prepare(services, account, "renomear.csv", rename_sheet(ids))
    assert response.status_code == 201, response.text
    return str(response.json()["import_id"])


async def change_log(import_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(contacts_test_dsn())
    try:
        return list(
            await conn.fetch(
                "SELECT contact_id, field, row_number FROM contact_changes WHERE import_id = $1", import_id
            )
        )
    finally:
        await conn.close()


async def assert_renamed_once(services: Services, account: TestAccount, import_id: str, ids: list[int]) -> None:
    view = await journey.get_import(services, account, import_id)
    assert view["state"] == "completed", view
    assert view["result"] == {"created": 0, "updated": len(ids), "unchanged": 0, "skipped": 0, "failed": 0}, view
    changes = await change_log(import_id)
    cells = {(c["contact_id"], c["field"]) for c in changes}
    assert len(changes) == len(cells), "a cell changed twice by one import"
    assert {c for c, _ in cells} == set(ids)
    now = {c["id"]: c for c in await journey.all_contacts(services, account)}
    assert all(now[i]["version"] == 2 for i in ids), "every contact changed by exactly one write"


async def eventually(check: Callable[[], Awaitable[Any]], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)
    return found


def s3() -> tuple[Minio, str]:
    settings = S3Settings(endpoint=S3_ENDPOINT)
    return create_client(settings), settings.bucket


def object_keys(prefix: str) -> list[str]:
    client, bucket = s3()
    return sorted(o.object_name for o in client.list_objects(bucket, prefix=prefix, recursive=True))


def unknown_account_id() -> int:
    return 2_000_000_000 + random.randrange(100_000_000)


@pytest.fixture
async def account(services: Services) -> TestAccount:
    return await create_account(services.contacts.url, owners=1, custom_fields=())


# --- poison messages ----------------------------------------------------------------------


async def test_poison_export_requests_are_dead_lettered_and_the_partition_moves_on(
    services: Services, account: TestAccount
) -> None:
    await seed_contacts(account, 3)
    good_id = str(uuid.uuid4())
    partition = partition_of(good_id)  # every record below goes where the good one goes
    schema_job, unknown_account_job, taken_job = (str(uuid.uuid4()) for _ in range(3))
    topic = topics.EXPORT_REQUESTED
    group = our_group(services.export)

    async with EventWatcher(EXPORT_OUTCOMES) as watcher, TopicTail(topics.dlq(topic)) as tail:
        # A real export of the account, whose id another account's command then claims.
        async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
            taken = await http.post(
                f"{services.export.url}/v1/exports", json={"selection": {"all": True}, "export_id": taken_job}
            )
            assert taken.status_code == 202, taken.text
        await watcher.wait_for(topics.EXPORT_READY, taken_job)

        not_json = (await send_raw(topic, b"{not json " + good_id.encode(), f"poison-{uuid.uuid4()}", partition))[0]
        # `requested_by`, `format` and `selection` missing: the contract's schema is not met.
        wrong_schema = (
            await send_raw(
                topic,
                envelope(topic, {"account_id": account.account_id, "export_id": schema_job}),
                schema_job,
                partition,
            )
        )[0]
        # Every field well formed, but an account id past bigint: the export's database
        # cannot take it, and it was retried forever, holding the partition.
        past_bigint = (
            await send_raw(
                topic,
                envelope(
                    topic,
                    {
                        "account_id": 2**63,
                        "export_id": str(uuid.uuid4()),
                        "requested_by": "tests:poison",
                        "format": "csv",
                        "selection": {"all": True},
                    },
                ),
                f"poison-{uuid.uuid4()}",
                partition,
            )
        )[0]
        ghost = ExportRequested(
            account_id=unknown_account_id(),
            export_id=uuid.UUID(unknown_account_job),
            requested_by="tests:poison",
            format="csv",
            selection={"all": True},
        )
        ghost_sent = (
            await send_raw(topic, command_body(topic, unknown_account_job, ghost), unknown_account_job, partition)
        )[0]
        other = await create_account(services.contacts.url, owners=0, custom_fields=())
        thief = ExportRequested(
            account_id=other.account_id,
            export_id=uuid.UUID(taken_job),
            requested_by="tests:poison",
            format="xlsx",
            selection={"all": True},
        )
        id_taken = (await send_raw(topic, command_body(topic, taken_job, thief), taken_job, partition))[0]
        async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
            good = await http.post(
                f"{services.export.url}/v1/exports", json={"selection": {"all": True}, "export_id": good_id}
            )
            assert good.status_code == 202, good.text

        # The consumer kept going: the good request after the poison is served.
        ready = await watcher.wait_for(topics.EXPORT_READY, good_id, timeout_s=60)
        assert ready.data["row_count"] == 3

        for sent, code in (
            (not_json, "invalid_json"),
            (wrong_schema, "schema_mismatch"),
            (past_bigint, "schema_mismatch"),
            (id_taken, "export_id_taken"),
            (ghost_sent, "unknown_account"),
        ):
            dead = await dead_letters_of(tail, topic, sent)
            assert header(dead, "dlq-reason-code") == code
            assert header(dead, "dlq-reason"), "the reason in words too"
        assert (await dead_letters_of(tail, topic, not_json)).value.startswith(b"{not json ")

        # A *.failed event where the job id is readable, from this session's service.
        failed = await watcher.wait_for(topics.EXPORT_FAILED, schema_job)
        assert failed.data["code"] == "schema_mismatch" and failed.data["account_id"] == account.account_id
        # Unknown account: dead-lettered, and one failed event (in the export's language).
        failed = await watcher.wait_for(topics.EXPORT_FAILED, unknown_account_job)
        assert failed.data["code"] == "unknown_account"
        assert len(watcher.events(topics.EXPORT_FAILED, unknown_account_job)) == 1
        # The id of account A claimed by account B: B's command is refused, A's export untouched.
        failed = await watcher.wait_for(topics.EXPORT_FAILED, taken_job)
        assert failed.data["code"] == "export_id_taken" and failed.data["account_id"] == other.account_id
        async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
            mine = (await http.get(f"{services.export.url}/v1/exports/{taken_job}")).json()
        assert mine["state"] == "ready" and mine["format"] == "csv", mine
        async with httpx.AsyncClient(headers=other.headers, timeout=30) as http:
            assert (await http.get(f"{services.export.url}/v1/exports/{taken_job}")).status_code == 404

    await wait_committed_past(group, topic, partition, good_offset_floor(id_taken))


def good_offset_floor(last_poison: RecordMetadata) -> int:
    return last_poison.offset  # the good record follows the last poison one


async def test_poison_start_commands_are_dead_lettered_and_the_partition_moves_on(
    services: Services, account: TestAccount
) -> None:
    ids = await seed_contacts(account, 4)
    import_id = await prepared_import(services, account, ids)
    validated = await journey.confirm(services, account, import_id, {"fields": ["name"]})
    assert validated["ready_to_start"], validated
    topic = topics.IMPORT_START
    partition = partition_of(import_id)
    schema_job, unknown_job, ghost_job = (str(uuid.uuid4()) for _ in range(3))

    async with EventWatcher((*IMPORT_OUTCOMES, topics.IMPORT_FAILED)) as watcher, TopicTail(topics.dlq(topic)) as tail:
        not_json = (await send_raw(topic, b"\xff\xfe not json", f"poison-{uuid.uuid4()}", partition))[0]
        # `requested_by` missing.
        wrong_schema = (
            await send_raw(
                topic,
                envelope(topic, {"account_id": account.account_id, "import_id": schema_job}),
                schema_job,
                partition,
            )
        )[0]
        no_data = (await send_raw(topic, b'{"specversion": "1.0", "type": 42}', f"poison-{uuid.uuid4()}", partition))[0]
        # Well formed, but an import this account does not have, of a known account and of an
        # unknown one: dead letters with a failed event (CONTRACT.md).
        unknown_import = StartImport(account_id=account.account_id, import_id=uuid.UUID(unknown_job), requested_by="t")
        unknown = (await send_raw(topic, command_body(topic, unknown_job, unknown_import), unknown_job, partition))[0]
        ghost_import = StartImport(account_id=unknown_account_id(), import_id=uuid.UUID(ghost_job), requested_by="t")
        ghost = (await send_raw(topic, command_body(topic, ghost_job, ghost_import), ghost_job, partition))[0]
        async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
            started = await http.post(f"{services.importer.url}/v1/imports/{import_id}/start")
            assert started.status_code == 202 and started.json()["accepted"], started.text

        finished = await watcher.wait_for(topics.IMPORT_FINISHED, import_id, timeout_s=60)
        assert finished.data["updated"] == len(ids)

        for sent, code in ((not_json, "invalid_json"), (wrong_schema, "schema_mismatch"), (no_data, "schema_mismatch")):
            dead = await dead_letters_of(tail, topic, sent)
            assert header(dead, "dlq-reason-code") == code, (code, header(dead, "dlq-reason"))
        failed = await watcher.wait_for(topics.IMPORT_FAILED, schema_job)
        assert failed.data["code"] == "schema_mismatch" and failed.data["account_id"] == account.account_id
        await wait_committed_past(our_group(services.importer), topic, partition, ghost.offset)
        # Unknown import (known or unknown account): dead-lettered, with a failed event of ours.
        for sent, job in ((unknown, unknown_job), (ghost, ghost_job)):
            dead = await dead_letters_of(tail, topic, sent)
            assert header(dead, "dlq-reason-code") == "unknown_import"
            failed = await watcher.wait_for(topics.IMPORT_FAILED, job)
            assert failed.data["code"] == "unknown_import"
    await assert_renamed_once(services, account, import_id, ids)


async def test_poison_validate_commands_are_dead_lettered_and_the_partition_moves_on(
    services: Services, account: TestAccount
) -> None:
    ids = await seed_contacts(account, 3)
    import_id = await prepared_import(services, account, ids)
    topic = topics.IMPORT_VALIDATE
    partition = partition_of(import_id)
    schema_job, unknown_job = str(uuid.uuid4()), str(uuid.uuid4())

    async with (
        EventWatcher((topics.IMPORT_VALIDATED, topics.IMPORT_FAILED)) as watcher,
        TopicTail(topics.dlq(topic)) as tail,
    ):
        not_json = (await send_raw(topic, b"", f"poison-{uuid.uuid4()}", partition))[0]
        # `confirm_version` missing.
        wrong_schema = (
            await send_raw(
                topic,
                envelope(topic, {"account_id": account.account_id, "import_id": schema_job}),
                schema_job,
                partition,
            )
        )[0]
        bad_version = (
            await send_raw(
                topic,
                envelope(topic, {"account_id": account.account_id, "import_id": schema_job, "confirm_version": "v2"}),
                schema_job,
                partition,
            )
        )[0]
        unknown_cmd = ValidateImport(account_id=account.account_id, import_id=uuid.UUID(unknown_job), confirm_version=1)
        unknown = (await send_raw(topic, command_body(topic, unknown_job, unknown_cmd), unknown_job, partition))[0]
        # The confirm publishes the good validate command, after the poison, same partition.
        validated = await journey.confirm(services, account, import_id, {"fields": ["name"]})
        assert validated["state"] == "validated" and validated["counts"]["to_update"] == len(ids), validated
        await watcher.wait_for(topics.IMPORT_VALIDATED, import_id)

        for sent, code in (
            (not_json, "invalid_json"),
            (wrong_schema, "schema_mismatch"),
            (bad_version, "schema_mismatch"),
        ):
            dead = await dead_letters_of(tail, topic, sent)
            assert header(dead, "dlq-reason-code") == code
        failed = [e.data for e in watcher.events(topics.IMPORT_FAILED, schema_job)]
        if not failed:
            failed = [(await watcher.wait_for(topics.IMPORT_FAILED, schema_job)).data]
        assert {f["code"] for f in failed} == {"schema_mismatch"}
        await wait_committed_past(our_group(services.importer), topic, partition, unknown.offset)
        dead = await dead_letters_of(tail, topic, unknown)
        assert header(dead, "dlq-reason-code") == "unknown_import"
        assert (await watcher.wait_for(topics.IMPORT_FAILED, unknown_job)).data["code"] == "unknown_import"


# --- duplicated delivery --------------------------------------------------------------------


async def test_an_export_request_delivered_three_times_makes_one_file(services: Services, account: TestAccount) -> None:
    await seed_contacts(account, 5)
    export_id = str(uuid.uuid4())
    command = ExportRequested(
        account_id=account.account_id,
        export_id=uuid.UUID(export_id),
        requested_by="tests:duplicate",
        format="csv",
        selection={"all": True},
    )
    topic = topics.EXPORT_REQUESTED
    async with EventWatcher(EXPORT_OUTCOMES) as watcher:
        await send_raw(topic, command_body(topic, export_id, command), export_id, times=3)
        ready = await watcher.wait_for(topics.EXPORT_READY, export_id)
        await asyncio.sleep(SETTLE_S)
        assert len(watcher.events(topics.EXPORT_READY, export_id)) == 1
        assert not watcher.events(topics.EXPORT_FAILED, export_id)
    assert ready.data["row_count"] == 5
    assert object_keys(f"exports/{account.account_id}/{export_id}/") == [ready.data["object_key"]]


async def test_an_export_id_requested_twice_with_different_bodies_is_one_export(
    services: Services, account: TestAccount
) -> None:
    ids = await seed_contacts(account, 4)
    export_id = str(uuid.uuid4())
    first = ExportRequested(
        account_id=account.account_id,
        export_id=uuid.UUID(export_id),
        requested_by="tests:first",
        format="csv",
        selection={"all": True},
    )
    second = ExportRequested(
        **{**first.model_dump(), "format": "xlsx", "selection": {"ids": ids[:1]}, "requested_by": "tests:2nd"}
    )
    topic = topics.EXPORT_REQUESTED
    async with EventWatcher(EXPORT_OUTCOMES) as watcher:
        await send_raw(topic, command_body(topic, export_id, first), export_id)
        await send_raw(topic, command_body(topic, export_id, second), export_id)
        ready = await watcher.wait_for(topics.EXPORT_READY, export_id)
        await asyncio.sleep(SETTLE_S)
        assert len(watcher.events(topics.EXPORT_READY, export_id)) == 1
    # The first request is the export; the repeat with the same id is the same export.
    assert ready.data["format"] == "csv" and ready.data["row_count"] == 4, ready.data
    assert ready.data["file_name"].endswith(".csv")
    assert object_keys(f"exports/{account.account_id}/{export_id}/") == [ready.data["object_key"]]
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        view = (await http.get(f"{services.export.url}/v1/exports/{export_id}")).json()
        # Through the HTTP API too: the repeat answers with the export as first requested.
        again = await http.post(
            f"{services.export.url}/v1/exports",
            json={"selection": {"ids": ids[:2]}, "format": "xlsx", "export_id": export_id},
        )
    assert view["requested_by"] == "tests:first" and view["selection"] == {"all": True}
    assert again.status_code == 202 and again.json()["state"] == "ready", again.text
    await asyncio.sleep(SETTLE_S)
    assert object_keys(f"exports/{account.account_id}/{export_id}/") == [ready.data["object_key"]]


async def test_a_repeat_delivered_before_the_first_request_still_builds_the_first_body(
    services: Services, account: TestAccount
) -> None:
    """Two replicas' HTTP APIs take the same export id: replica 1 registers body A and is
    slow to publish; replica 2 finds A registered and publishes body B, which is delivered
    first. The export is A (CONTRACT: a repeat with the same id is the same export)."""
    ids = await seed_contacts(account, 4)
    export_id = uuid.uuid4()
    first = ExportRequested(
        account_id=account.account_id,
        export_id=export_id,
        requested_by="tests:A",
        format="csv",
        selection={"all": True},
    )
    second = ExportRequested(
        **{**first.model_dump(), "format": "xlsx", "selection": {"ids": ids[:1]}, "requested_by": "tests:B"}
    )
    database = services.export.env["EXPORT_POSTGRES__DATABASE"]
    pool = await asyncpg.create_pool(
        f"postgresql://crm_bulk:crm-bulk-dev@127.0.0.1:{PG_PORT}/{database}",
        init=init_connection,
        min_size=1,
        max_size=1,
    )
    try:
        await ExportRepository(pool).register(first)  # replica 1, before its publish
    finally:
        await pool.close()
    topic, key = topics.EXPORT_REQUESTED, str(export_id)
    async with EventWatcher(EXPORT_OUTCOMES) as watcher:
        await send_raw(topic, command_body(topic, key, second), key)  # replica 2's, first
        await send_raw(topic, command_body(topic, key, first), key)  # replica 1's, late
        ready = await watcher.wait_for(topics.EXPORT_READY, key)
        await asyncio.sleep(SETTLE_S)
        assert len(watcher.events(topics.EXPORT_READY, key)) == 1
    assert ready.data["format"] == "csv" and ready.data["file_name"].endswith(".csv"), ready.data
    assert ready.data["row_count"] == 4, ready.data


async def test_a_start_command_delivered_three_times_runs_once(services: Services, account: TestAccount) -> None:
    ids = await seed_contacts(account, 30)
    import_id = await prepared_import(services, account, ids)
    await journey.confirm(services, account, import_id, {"fields": ["name"]})
    command = StartImport(account_id=account.account_id, import_id=uuid.UUID(import_id), requested_by="tests:dup")
    topic = topics.IMPORT_START
    async with EventWatcher(IMPORT_OUTCOMES) as watcher:
        await send_raw(topic, command_body(topic, import_id, command), import_id, times=3)
        await watcher.wait_for_any(IMPORT_OUTCOMES, import_id, timeout_s=60)
        await asyncio.sleep(SETTLE_S)
        await send_raw(topic, command_body(topic, import_id, command), import_id)  # and once after it ended
        await asyncio.sleep(SETTLE_S)
        assert len(watcher.events(topics.IMPORT_FINISHED, import_id)) == 1
        assert not watcher.events(topics.IMPORT_FAILED, import_id)
    await assert_renamed_once(services, account, import_id, ids)
    view = await journey.get_import(services, account, import_id)
    assert view["progress"]["batches_done"] == view["progress"]["batches_total"]


async def test_a_validate_command_delivered_three_times_validates_once(
    services: Services, account: TestAccount
) -> None:
    ids = await seed_contacts(account, 10)
    import_id = await prepared_import(services, account, ids)
    async with EventWatcher((topics.IMPORT_VALIDATED, topics.IMPORT_FAILED)) as watcher:
        validated = await journey.confirm(services, account, import_id, {"fields": ["name"]})
        await watcher.wait_for(topics.IMPORT_VALIDATED, import_id)
        command = ValidateImport(account_id=account.account_id, import_id=uuid.UUID(import_id), confirm_version=1)
        topic = topics.IMPORT_VALIDATE
        await send_raw(topic, command_body(topic, import_id, command), import_id, times=3)
        await asyncio.sleep(SETTLE_S)
        assert len(watcher.events(topics.IMPORT_VALIDATED, import_id)) == 1
        assert not watcher.events(topics.IMPORT_FAILED, import_id)
    again = await journey.get_import(services, account, import_id)
    assert again["state"] == "validated" and again["counts"] == validated["counts"], (validated, again)
    assert again["validated_at"] == validated["validated_at"], "validated again"


# --- reordered delivery ---------------------------------------------------------------------


async def test_a_start_delivered_before_validation_ends_starts_nothing_early(
    services: Services, account: TestAccount
) -> None:
    """A start that overtakes validation must not apply an unvalidated plan. The importer
    acknowledges it without effect (no event): the job stays `validated` until a start
    arrives after validation, which then runs once."""
    ids = await seed_contacts(account, 20)
    import_id = await prepared_import(services, account, ids)
    command = StartImport(account_id=account.account_id, import_id=uuid.UUID(import_id), requested_by="tests:early")
    topic = topics.IMPORT_START
    async with EventWatcher((*IMPORT_OUTCOMES, topics.IMPORT_VALIDATED)) as watcher:
        # Before the confirmation (the validate command does not exist yet): acknowledged.
        early = await send_raw(topic, command_body(topic, import_id, command), import_id, times=2)
        await wait_committed_past(our_group(services.importer), topic, early[-1].partition, early[-1].offset)
        async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
            confirmed = await http.post(
                f"{services.importer.url}/v1/imports/{import_id}/confirm", json={"fields": ["name"]}
            )
            assert confirmed.status_code == 202 and confirmed.json()["state"] == "validating", confirmed.text
        # While validating (if validation is not done yet): acknowledged as well.
        await send_raw(topic, command_body(topic, import_id, command), import_id)
        await watcher.wait_for(topics.IMPORT_VALIDATED, import_id)
        await asyncio.sleep(SETTLE_S)
        view = await journey.get_import(services, account, import_id)
        assert view["state"] == "validated" and view["started_at"] is None, view
        assert not watcher.events(topics.IMPORT_FINISHED, import_id)
        assert await change_log(import_id) == []
        await send_raw(topic, command_body(topic, import_id, command), import_id)
        await watcher.wait_for_any(IMPORT_OUTCOMES, import_id, timeout_s=60)
        await asyncio.sleep(SETTLE_S)
        assert len(watcher.events(topics.IMPORT_FINISHED, import_id)) == 1
    await assert_renamed_once(services, account, import_id, ids)


async def test_a_validate_of_an_older_confirmation_after_a_newer_one_changes_nothing(
    services: Services, account: TestAccount
) -> None:
    ids = await seed_contacts(account, 6)
    import_id = await prepared_import(services, account, ids)
    topic = topics.IMPORT_VALIDATE
    first = await journey.confirm(services, account, import_id, {"fields": ["name"]})
    assert first["counts"]["field_changes"].keys() == {"name"}, first
    second = await journey.confirm(services, account, import_id, {"fields": ["name", "company"]})
    assert second["counts"]["field_changes"].keys() == {"name", "company"}, second
    async with EventWatcher((topics.IMPORT_VALIDATED, topics.IMPORT_FAILED, *IMPORT_OUTCOMES)) as watcher:
        for version in (1, 2, 1):  # the stale one, a duplicate of the current one, the stale one
            command = ValidateImport(
                account_id=account.account_id, import_id=uuid.UUID(import_id), confirm_version=version
            )
            await send_raw(topic, command_body(topic, import_id, command), import_id)
        await asyncio.sleep(SETTLE_S)
        assert not watcher.events(topics.IMPORT_VALIDATED, import_id)
        assert not watcher.events(topics.IMPORT_FAILED, import_id)
        now = await journey.get_import(services, account, import_id)
        assert now["state"] == "validated" and now["counts"] == second["counts"], now
        assert now["validated_at"] == second["validated_at"]
        started = await journey.start_and_finish(services, account, import_id)
        assert started["state"] == "completed", started
        # A stale validate after the run: still nothing.
        stale = ValidateImport(account_id=account.account_id, import_id=uuid.UUID(import_id), confirm_version=1)
        await send_raw(topic, command_body(topic, import_id, stale), import_id)
        current = ValidateImport(account_id=account.account_id, import_id=uuid.UUID(import_id), confirm_version=2)
        await send_raw(topic, command_body(topic, import_id, current), import_id)
        await asyncio.sleep(SETTLE_S)
        assert not watcher.events(topics.IMPORT_VALIDATED, import_id)
    changes = await change_log(import_id)
    assert {c["field"] for c in changes} == {"name", "company"}
    assert len(changes) == 2 * len(ids)
    final = await journey.get_import(services, account, import_id)
    assert final["state"] == "completed" and final["result"]["updated"] == len(ids), final
