"""The importer as a real process, SIGKILLed mid-run and restarted: the run resumes at
the first batch not recorded, and every row is applied exactly once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
import uvicorn

from services.importer.config import ImporterPostgres
from tests.integration.importer.conftest import recreate_database
from tests.integration.importer.fake_contacts import FakeContacts, fake_contacts_app
from tests.integration.importer.sheets import HEADER_PT, csv_bytes
from tests.support.stack import PG_PORT, ServiceProcess, free_port, logs_dir, service_env

DATABASE = "crm_importer_ptest"
ROWS = 24
BATCH = 2


@pytest.fixture(scope="module")
def served_contacts() -> Iterator[tuple[FakeContacts, str]]:
    fake = FakeContacts()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake_contacts_app(fake), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield fake, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


async def _batches_done(import_id: str) -> int:
    conn = await asyncpg.connect(ImporterPostgres(port=PG_PORT, database=DATABASE).dsn())
    try:
        return int(await conn.fetchval("SELECT batches_done FROM imports WHERE import_id = $1::uuid", import_id) or 0)
    finally:
        await conn.close()


async def _wait(check, timeout_s: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_killed_importer_resumes_and_applies_each_row_once(
    served_contacts: tuple[FakeContacts, str],
) -> None:
    fake, contacts_url = served_contacts
    await recreate_database(DATABASE)
    port = free_port()
    env = {
        **service_env("importer", port, contacts_url, run_id="resume"),
        "IMPORTER_POSTGRES__DATABASE": DATABASE,
        "IMPORTER_CONSUMER_GROUP": "crm-bulk-importer-ptest",
        "IMPORTER_RUN_LEASE_S": "3",
        "IMPORTER_APPLY_BATCH_SIZE": str(BATCH),
    }
    process = ServiceProcess("importer", port, env, logs_dir() / "test-importer-resume.log")
    process.start()
    try:
        account_id, token = fake.add_account()
        headers = {"Authorization": f"Bearer {token}"}
        people = [
            fake.add_contact(account_id, f"Pessoa {i}", lifecycle_stage="lead", legal_entity=False) for i in range(ROWS)
        ]
        content = csv_bytes([HEADER_PT, *[[p.id, f"{p.name} Souza", "", "Lead", "NÃO"] for p in people]])
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as http:
            prepared = await http.post("/v1/imports", headers=headers, files={"file": ("c.csv", content)})
            assert prepared.status_code == 201, prepared.text
            import_id = prepared.json()["import_id"]
            confirmed = await http.post(f"/v1/imports/{import_id}/confirm", headers=headers, json={"fields": ["name"]})
            assert confirmed.status_code == 202, confirmed.text

            async def state() -> str:
                return str((await http.get(f"/v1/imports/{import_id}", headers=headers)).json()["state"])

            await _wait(lambda: _is(state, "validated"), 30)
            fake.apply_delay_s = 0.3
            assert (await http.post(f"/v1/imports/{import_id}/start", headers=headers)).status_code == 202
            await _wait(lambda: _at_least(import_id, 3), 30)
            process.kill()
            killed_at = await _batches_done(import_id)
            assert killed_at < ROWS // BATCH
            fake.apply_delay_s = 0.0
            process.start()
            await _wait(lambda: _is(state, "completed"), 60)
            view = (await http.get(f"/v1/imports/{import_id}", headers=headers)).json()
        assert view["result"] == {"created": 0, "updated": ROWS, "unchanged": 0, "skipped": 0, "failed": 0}
        changes = fake.changes_of(import_id)
        assert sorted(c.row_number for c in changes) == list(range(2, ROWS + 2))  # each row once
        assert all(fake.contacts[p.id].name == f"{p.name} Souza" for p in people)
    finally:
        process.stop()


async def _is(state, wanted: str) -> bool:  # type: ignore[no-untyped-def]
    return await state() == wanted


async def _at_least(import_id: str, batches: int) -> bool:
    return await _batches_done(import_id) >= batches
