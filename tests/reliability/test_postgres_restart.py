"""The (private) PostgreSQL cluster that holds the importer's and the contacts' databases
restarted twice during an import, once cleanly (`pg_ctl stop -m fast`) and once as a
crash (`-m immediate`, recovery from the WAL): the run resumes and finishes `completed`;
no batch is applied twice (the contacts' change log and versions, and one bulk-apply
record per batch)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.reliability.harness import (
    PrivatePostgres,
    RestartableKafka,
    Stack,
    batches_done,
    create_account,
    exactly_once,
    get_import,
    readyz_status,
    rename_sheet,
    seed_contacts,
    start_import,
    validated_import,
    wait_until,
)

pytestmark = pytest.mark.timeout(240)

ROWS = 3_000
BATCH = 30
DOWN_S = 5.0


@pytest.fixture(scope="module")
def stack(private_postgres: PrivatePostgres, private_kafka: RestartableKafka) -> Iterator[Stack]:
    env = {"importer": {"IMPORTER_APPLY_BATCH_SIZE": str(BATCH), "IMPORTER_RUN_LEASE_S": "6"}}
    stack = Stack(private_postgres.port, private_kafka.bootstrap, extra_env=env, label="rel-pg")
    try:
        yield stack.start("contacts", "importer")
    finally:
        stack.stop()


async def test_an_import_resumes_after_postgres_restarts_and_applies_no_batch_twice(
    stack: Stack, private_postgres: PrivatePostgres
) -> None:
    account = await create_account(stack)
    ids = await seed_contacts(stack, account, ROWS)
    import_id = await validated_import(stack, account, rename_sheet(ids))
    await start_import(stack, account, import_id)
    restarts: list[dict[str, object]] = []
    for mode, target in (("fast", 5), ("immediate", 30)):

        async def reached(target: int = target) -> bool:
            done, _, state = await batches_done(stack, import_id)
            return done >= target or state not in ("validated", "running")

        await wait_until(reached, 90, f"batch {target}")
        done, total, state = await batches_done(stack, import_id)
        assert state == "running" and done < total, "the run ended before the restart: nothing proven"
        private_postgres.stop(mode)
        stopped = time.monotonic()
        unready = [await readyz_status(stack.importer.url), await readyz_status(stack.contacts.url)]
        await asyncio.sleep(DOWN_S)
        private_postgres.start()

        async def moved(done: int = done) -> bool:
            now, _, state = await batches_done(stack, import_id)
            return now > done or state != "running"

        await wait_until(moved, 90, "the run to move again")
        moving_again_s = round(time.monotonic() - stopped, 1)
        restarts.append({"mode": mode, "at_batch": done, "readyz_down": unready, "moving_again_s": moving_again_s})

    async def finished() -> dict[str, object] | None:
        view = await get_import(stack.importer.url, account, import_id)
        return view if view["state"] in ("completed", "completed_with_errors", "failed") else None

    view = await wait_until(finished, 120, "the import to finish", every_s=0.5)
    print(f"PostgreSQL restarts during an import of {ROWS} rows: {restarts}")
    assert view["state"] == "completed", view
    assert view["result"] == {"created": 0, "updated": ROWS, "unchanged": 0, "skipped": 0, "failed": 0}
    proof = await exactly_once(stack, account, import_id, ids)
    assert proof.problems(ROWS) == []
    assert proof.batches_applied == (ROWS + BATCH - 1) // BATCH
    assert all(r["readyz_down"] == [503, 503] for r in restarts), restarts
