"""The contacts service down for 20 s in the middle of an import's run (killed, started
again 20 s later), with the importer up: the run waits, the batches it sends meanwhile
are tried again within `IMPORTER_CONTACTS_API__RETRY_S`, and the import ends `completed`
with every row applied once. Before the retries, an outage of more than ~12 s failed the
import (`import_retries_exhausted`): every redelivered start command claimed the run
again at once and counted as an attempt without progress (docs/reliability.md, 8)."""

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
    log_since,
    log_size,
    rename_sheet,
    seed_contacts,
    start_import,
    validated_import,
    wait_until,
)

pytestmark = pytest.mark.timeout(300)

ROWS = 3_000
BATCH = 30
DOWN_S = 20.0


@pytest.fixture(scope="module")
def stack(private_postgres: PrivatePostgres, private_kafka: RestartableKafka) -> Iterator[Stack]:
    env = {"importer": {"IMPORTER_APPLY_BATCH_SIZE": str(BATCH)}}
    stack = Stack(private_postgres.port, private_kafka.bootstrap, extra_env=env, label="rel-outage")
    try:
        yield stack.start("contacts", "importer")
    finally:
        stack.stop()


async def test_an_import_outlasts_a_contacts_outage_of_twenty_seconds(stack: Stack) -> None:
    account = await create_account(stack)
    ids = await seed_contacts(stack, account, ROWS)
    import_id = await validated_import(stack, account, rename_sheet(ids))
    log_start = log_size(stack.importer.log_path)
    await start_import(stack, account, import_id)

    async def reached() -> bool:
        done, _, state = await batches_done(stack, import_id)
        return done >= 10 or state not in ("validated", "running")

    await wait_until(reached, 90, "batch 10")
    done, total, state = await batches_done(stack, import_id)
    assert state == "running" and done < total, "the run ended before the outage: nothing proven"
    stack.contacts.kill()
    killed = time.monotonic()
    await asyncio.sleep(DOWN_S)
    stack.contacts.start()

    async def finished() -> dict[str, object] | None:
        view = await get_import(stack.importer.url, account, import_id)
        return view if view["state"] in ("completed", "completed_with_errors", "failed") else None

    view = await wait_until(finished, 180, "the import to finish", every_s=0.5)
    print(f"contacts down {DOWN_S} s from batch {done} of {total}; finished {time.monotonic() - killed:.1f} s after")
    assert view["state"] == "completed", view
    assert view["result"] == {"created": 0, "updated": ROWS, "unchanged": 0, "skipped": 0, "failed": 0}
    proof = await exactly_once(stack, account, import_id, ids)
    assert proof.problems(ROWS) == []
    assert proof.batches_applied == total
    retried = log_since(stack.importer.log_path, log_start).count("trying POST")
    assert retried >= 3, "the outage was not met by retries"
