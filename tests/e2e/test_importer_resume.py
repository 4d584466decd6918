"""Exactly once, against the real contacts service: the importer SIGKILLed mid-run and
restarted resumes where the last acknowledged batch ended; a repeated start and a
redelivered `contacts.import.start` command start one run. Proven on the contacts'
versions and on the contacts service's change log (`contact_changes`)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared import topics
from shared.cloudevents import event_body, kafka_headers, make_event
from shared.events import StartImport
from tests.conftest import Services
from tests.support import journey
from tests.support.accounts import TestAccount, create_account
from tests.support.stack import INTERNAL_TOKEN, KAFKA_BOOTSTRAP, PG_PORT, ServiceProcess

pytestmark = pytest.mark.timeout(180)

CONTACTS = 1_200
BATCH = 50


@pytest.fixture
def small_batch_importer(services: Services) -> Iterator[ServiceProcess]:
    """An importer to put in the place of the session's one (same port, databases, bucket
    and consumer group: the test stops the session's importer first) that applies 50 rows
    a batch and takes a dead run over after 3 s. The session's importer is started again,
    as it was, afterwards."""
    env = {**services.importer.env, "IMPORTER_APPLY_BATCH_SIZE": str(BATCH), "IMPORTER_RUN_LEASE_S": "3"}
    replacement = ServiceProcess(
        "importer", services.importer.port, env, services.importer.log_path.with_name("test-importer-resume.log")
    )
    try:
        yield replacement
    finally:
        replacement.stop()
        if services.importer.process is None:
            services.importer.start()


async def make_contacts(services: Services, account: TestAccount, count: int) -> list[dict[str, Any]]:
    """`count` contacts in one call of the contacts service's internal bulk apply (the way an
    operator loads a base; 1,200 POSTs would take half a minute)."""
    rows = [
        {"row_number": i + 2, "action": "create", "values": {"name": f"Pessoa {i:04d}", "lifecycle_stage": "lead"}}
        for i in range(count)
    ]
    body = {"idempotency_key": f"load:{uuid.uuid4()}", "fields": ["name", "lifecycle_stage"], "rows": rows}
    headers = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    async with httpx.AsyncClient(base_url=services.contacts.url, headers=headers, timeout=60) as http:
        response = await http.post(f"/internal/v1/accounts/{account.account_id}/bulk-apply", json=body)
    assert response.status_code == 200, response.text
    assert [o["outcome"] for o in response.json()["outcomes"]] == ["created"] * count
    people = await journey.all_contacts(services, account)
    assert len(people) == count
    return people


async def validated_rename(services: Services, account: TestAccount, people: list[dict[str, Any]]) -> str:
    """An import that renames every contact, confirmed and validated (not started)."""
    rows = [["ID", "Nome"], *([str(p["id"]), f"{p['name']} Souza"] for p in people)]
    prepared = await journey.prepare(services, account, "renomear.csv", journey.write_ptbr_csv(rows))
    assert prepared.status_code == 201, prepared.text
    import_id = str(prepared.json()["import_id"])
    validated = await journey.confirm(services, account, import_id, {"fields": ["name"]})
    assert validated["ready_to_start"] and validated["counts"]["to_update"] == len(people), validated
    return import_id


async def change_log(import_id: str) -> list[asyncpg.Record]:
    database = os.environ["CRM_BULK_TEST_CONTACTS_DB"]
    conn = await asyncpg.connect(f"postgresql://crm_bulk:crm-bulk-dev@127.0.0.1:{PG_PORT}/{database}")
    try:
        return list(
            await conn.fetch(
                "SELECT contact_id, field, row_number FROM contact_changes WHERE import_id = $1", import_id
            )
        )
    finally:
        await conn.close()


async def assert_applied_exactly_once(
    services: Services, account: TestAccount, import_id: str, people: list[dict[str, Any]]
) -> None:
    view = await journey.get_import(services, account, import_id)
    assert view["state"] == "completed", view
    assert view["result"] == {"created": 0, "updated": len(people), "unchanged": 0, "skipped": 0, "failed": 0}
    now = {c["id"]: c for c in await journey.all_contacts(services, account)}
    for person in people:
        assert now[person["id"]]["name"] == f"{person['name']} Souza"
        assert now[person["id"]]["version"] == person["version"] + 1, (person, now[person["id"]])
    changes = await change_log(import_id)
    per_cell = {(c["contact_id"], c["field"]) for c in changes}
    assert len(changes) == len(per_cell) == len(people), "a contact changed twice by one import"
    assert per_cell == {(p["id"], "name") for p in people}
    assert sorted(c["row_number"] for c in changes) == list(range(2, len(people) + 2))


async def run_row(services: Services, import_id: str) -> asyncpg.Record:
    """The import's run as the importer's database holds it."""
    database = services.importer.env["IMPORTER_POSTGRES__DATABASE"]
    conn = await asyncpg.connect(f"postgresql://crm_bulk:crm-bulk-dev@127.0.0.1:{PG_PORT}/{database}")
    try:
        return await conn.fetchrow(
            "SELECT state, batches_done, batches_total FROM imports WHERE import_id = $1::uuid", import_id
        )
    finally:
        await conn.close()


async def wait_for(check: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return found


async def test_a_killed_importer_resumes_and_applies_each_row_once(
    services: Services, small_batch_importer: ServiceProcess
) -> None:
    account = await create_account(services.contacts.url)
    people = await make_contacts(services, account, CONTACTS)
    import_id = await validated_rename(services, account, people)
    services.importer.stop()
    small_batch_importer.start()

    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        started = await http.post(f"{small_batch_importer.url}/v1/imports/{import_id}/start")
        assert started.status_code == 202 and started.json()["accepted"] is True, started.text

    async def a_few_batches_done() -> bool:
        progress = (await journey.get_import(services, account, import_id))["progress"]
        return bool(progress and progress["batches_done"] >= 3)

    await wait_for(a_few_batches_done, 60, "3 batches")
    small_batch_importer.kill()
    killed = await run_row(services, import_id)  # its HTTP API is down with it
    assert killed["state"] == "running", killed
    total_batches = CONTACTS // BATCH
    assert killed["batches_total"] == total_batches
    assert 3 <= killed["batches_done"] < total_batches, "the run ended before the kill: nothing proven"

    small_batch_importer.start()
    await journey.wait_state(services, account, import_id, ("completed", "completed_with_errors", "failed"), 90)
    await assert_applied_exactly_once(services, account, import_id, people)


async def publish_start(account: TestAccount, import_id: str) -> None:
    command = StartImport(account_id=account.account_id, import_id=import_id, requested_by="tests:redelivery")
    event = make_event("/crm-bulk/tests", topics.IMPORT_START, import_id, command)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP)
    await producer.start()
    try:
        headers = [(k, v.encode()) for k, v in kafka_headers().items()]
        await producer.send_and_wait(topics.IMPORT_START, event_body(event), key=import_id.encode(), headers=headers)
    finally:
        await producer.stop()


async def test_a_repeated_start_and_a_redelivered_command_start_one_run(services: Services) -> None:
    account = await create_account(services.contacts.url)
    people = await make_contacts(services, account, 120)
    import_id = await validated_rename(services, account, people)
    url = f"{services.importer.url}/v1/imports/{import_id}/start"

    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        first, second = await asyncio.gather(http.post(url), http.post(url))
        await publish_start(account, import_id)  # a redelivery, while it runs or just after
        assert (first.status_code, second.status_code) == (202, 202), (first.text, second.text)
        await journey.wait_state(services, account, import_id, ("completed", "completed_with_errors", "failed"), 60)
        await publish_start(account, import_id)  # and one after it completed
        again = await http.post(url)
    assert again.status_code == 202 and again.json() == {
        "import_id": import_id,
        "state": "completed",
        "accepted": False,
    }
    await asyncio.sleep(2)  # room for the late commands to be (not) acted on
    await assert_applied_exactly_once(services, account, import_id, people)
