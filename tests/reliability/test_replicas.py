"""Two instances of each service on the same consumer groups and databases (topics of 6
partitions): the journey through either instance gives what one instance gives; a start
received by both runs once; an importer SIGKILLed mid-run is taken over by the other.

The session's importer is replaced, for this module, by two importers with a short run
lease (3 s) and small batches, so that a takeover is quick to see; it is started again,
as it was, afterwards. The extra contacts and export instances run beside the session's.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from shared import topics
from shared.events import StartImport
from tests.conftest import Services
from tests.reliability.test_delivery import (
    IMPORT_OUTCOMES,
    SETTLE_S,
    assert_renamed_once,
    command_body,
    eventually,
    prepared_import,
    seed_contacts,
    send_raw,
)
from tests.support import journey
from tests.support.accounts import TestAccount, create_account
from tests.support.events import EventWatcher
from tests.support.stack import PG_PORT, ServiceProcess, free_port

pytestmark = [pytest.mark.infra, pytest.mark.services, pytest.mark.timeout(120)]

LEASE_S = 3
BATCH = 20


@dataclass
class Replicas:
    """`one` and `two`: the same deployment reached through either instance."""

    one: Services
    two: Services
    importers: tuple[ServiceProcess, ServiceProcess]


def _twin(original: ServiceProcess, suffix: str, **overrides: str) -> ServiceProcess:
    prefix = {"contacts": "CONTACTS_", "export": "EXPORT_", "importer": "IMPORTER_"}[original.name]
    port = int(overrides.pop("port", free_port()))
    env = {**original.env, f"{prefix}HTTP_PORT": str(port), **overrides}
    return ServiceProcess(original.name, port, env, original.log_path.with_name(f"test-{original.name}-{suffix}.log"))


@pytest.fixture(scope="module")
def replicas(services: Services) -> Iterator[Replicas]:
    contacts2 = _twin(services.contacts, "replica")
    export2 = _twin(services.export, "replica", EXPORT_CONTACTS_API__BASE_URL=contacts2.url)
    short_lease = {"IMPORTER_RUN_LEASE_S": str(LEASE_S), "IMPORTER_APPLY_BATCH_SIZE": str(BATCH)}
    importer1 = _twin(services.importer, "replica-1", port=str(services.importer.port), **short_lease)
    importer2 = _twin(services.importer, "replica-2", IMPORTER_CONTACTS_API__BASE_URL=contacts2.url, **short_lease)
    started: list[ServiceProcess] = []
    try:
        services.importer.stop()
        for proc in (contacts2, export2, importer1, importer2):
            started.append(proc.start())
        yield Replicas(
            one=Services(services.contacts, services.export, importer1),
            two=Services(contacts2, export2, importer2),
            importers=(importer1, importer2),
        )
    finally:
        for proc in reversed(started):
            proc.stop()
        if services.importer.process is None:
            services.importer.start()


@pytest.fixture
async def account(replicas: Replicas) -> TestAccount:
    return await create_account(replicas.one.contacts.url, owners=1, custom_fields=())


async def test_the_journey_through_either_instance_gives_the_same_results(
    replicas: Replicas, account: TestAccount
) -> None:
    ids = await seed_contacts(account, 25)
    body = {"selection": {"all": True}, "format": "csv", "fields": ["id", "name", "company", "lifecycle_stage"]}
    first_data, first_file = await journey.export_file(replicas.one, account, body)
    second_data, second_file = await journey.export_file(replicas.two, account, body)
    assert first_data["row_count"] == second_data["row_count"] == len(ids)
    assert first_file == second_file, "the same export through either instance"
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        pages = [(await http.get(f"{r.export.url}/v1/exports")).json() for r in (replicas.one, replicas.two)]
    assert pages[0] == pages[1]
    # (Only ours: another deployment on the shared cluster may have used the same account id.)
    mine = {first_data["export_id"], second_data["export_id"]}
    assert mine <= {item["export_id"] for item in pages[0]["items"]}

    # Prepared on one instance, confirmed and started on the other, read from both.
    import_id = await prepared_import(replicas.one, account, ids)
    validated = await journey.confirm(replicas.two, account, import_id, {"fields": ["name", "company"]})
    assert validated["counts"]["to_update"] == len(ids) and validated["ready_to_start"], validated
    assert await journey.feedback(replicas.one, account, import_id) == await journey.feedback(
        replicas.two, account, import_id
    )
    finished = await journey.start_and_finish(replicas.one, account, import_id)
    assert finished["state"] == "completed", finished
    await assert_renamed_once(replicas.two, account, import_id, ids)
    views = [await journey.get_import(r, account, import_id) for r in (replicas.one, replicas.two)]
    assert views[0] == views[1]
    # The round trip: the edited contacts exported through the other instance.
    _, after = await journey.export_file(replicas.two, account, body)
    rows = journey.read_ptbr_csv(after)[1:]
    assert {r[1] for r in rows} == {f"Pessoa {n} Souza" for n in range(1, len(ids) + 1)}


async def test_a_start_received_by_both_instances_runs_once(replicas: Replicas, account: TestAccount) -> None:
    ids = await seed_contacts(account, 120)
    import_id = await prepared_import(replicas.two, account, ids)
    await journey.confirm(replicas.one, account, import_id, {"fields": ["name"]})
    start = {r: f"{r.importer.url}/v1/imports/{import_id}/start" for r in (replicas.one, replicas.two)}
    async with EventWatcher(IMPORT_OUTCOMES) as watcher:
        async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
            answers = await asyncio.gather(*(http.post(url) for url in start.values()))
        assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
        command = StartImport(account_id=account.account_id, import_id=uuid.UUID(import_id), requested_by="t:both")
        await send_raw(topics.IMPORT_START, command_body(topics.IMPORT_START, import_id, command), import_id, times=2)
        await watcher.wait_for_any(IMPORT_OUTCOMES, import_id, timeout_s=60)
        await asyncio.sleep(SETTLE_S)
        assert len(watcher.events(topics.IMPORT_FINISHED, import_id)) == 1
        assert not watcher.events(topics.IMPORT_FAILED, import_id)
    await assert_renamed_once(replicas.one, account, import_id, ids)


async def run_owner(replicas: Replicas, import_id: str) -> str | None:
    database = replicas.importers[0].env["IMPORTER_POSTGRES__DATABASE"]
    conn = await asyncpg.connect(f"postgresql://crm_bulk:crm-bulk-dev@127.0.0.1:{PG_PORT}/{database}")
    try:
        owner = await conn.fetchval("SELECT owner FROM imports WHERE import_id = $1", uuid.UUID(import_id))
    finally:
        await conn.close()
    return str(owner) if owner else None


async def test_killing_the_importer_running_an_import_lets_the_other_finish_it(
    replicas: Replicas, account: TestAccount
) -> None:
    ids = await seed_contacts(account, 900)
    import_id = await prepared_import(replicas.one, account, ids)
    await journey.confirm(replicas.two, account, import_id, {"fields": ["name"]})
    async with EventWatcher(IMPORT_OUTCOMES) as watcher:
        async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
            started = await http.post(f"{replicas.one.importer.url}/v1/imports/{import_id}/start")
            assert started.status_code == 202 and started.json()["accepted"], started.text

        async def running_a_while() -> dict[str, object] | None:
            view = await journey.get_import(replicas.one, account, import_id)
            progress = view["progress"]
            return view if progress and progress["batches_done"] >= 2 else None

        await eventually(running_a_while, 60, "2 batches applied")
        owner = await run_owner(replicas, import_id)
        assert owner is not None
        pid = int(owner.split(":")[1])
        by_pid = {p.process.pid: p for p in replicas.importers if p.process is not None}
        assert pid in by_pid, f"the run's owner {owner} is none of the two replicas {list(by_pid)}"
        victim = by_pid[pid]
        os.kill(pid, signal.SIGKILL)
        victim.kill()  # reaps it
        killed = await journey.get_import(
            replicas.one if victim is not replicas.one.importer else replicas.two, account, import_id
        )
        assert killed["state"] == "running", killed
        assert killed["progress"]["batches_done"] < killed["progress"]["batches_total"], "ended before the kill"

        survivor = replicas.two if victim is replicas.one.importer else replicas.one
        done = await journey.wait_state(
            survivor, account, import_id, ("completed", "completed_with_errors", "failed"), 60
        )
        assert done["state"] == "completed", done
        taken_over = f"import {import_id}: resuming at batch"
        assert taken_over in survivor.importer.log_path.read_text(errors="replace"), "not resumed by the survivor"
        await asyncio.sleep(SETTLE_S)
        assert len(watcher.events(topics.IMPORT_FINISHED, import_id)) == 1
    await assert_renamed_once(survivor, account, import_id, ids)
    victim.start()  # both replicas again, for whatever runs next
