"""The (private) Kafka broker stopped for 20 s during an export and during an import,
then started again on the same data: both jobs finish, nothing is lost or doubled (one
ready event, one finished event, each row applied once), and the services answer 503 on
/readyz while the broker is away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from shared import topics
from tests.reliability.harness import (
    PrivatePostgres,
    RestartableKafka,
    Stack,
    batches_done,
    count_events,
    create_account,
    exactly_once,
    export_row,
    get_import,
    readyz_status,
    rename_sheet,
    request_export,
    seed_contacts,
    start_import,
    validated_import,
    wait_until,
)

OUTAGE_S = 20.0
EXPORT_CONTACTS = 40_000
IMPORT_ROWS = 3_000
BATCH = 30


@pytest.fixture(scope="module")
def stack(private_postgres: PrivatePostgres, private_kafka: RestartableKafka) -> Iterator[Stack]:
    env = {"importer": {"IMPORTER_APPLY_BATCH_SIZE": str(BATCH), "IMPORTER_RUN_LEASE_S": "6"}}
    stack = Stack(private_postgres.port, private_kafka.bootstrap, extra_env=env, label="rel-kafka")
    try:
        yield stack.start()
    finally:
        stack.stop()


async def outage(kafka: RestartableKafka, stack: Stack) -> dict[str, object]:
    """Stops the broker for OUTAGE_S, sampling /readyz of export and importer meanwhile;
    starts it again and measures how long until both are ready."""
    kafka.stop_broker()
    stopped = time.monotonic()
    seen: dict[str, list[int | None]] = {"export": [], "importer": []}
    try:
        while time.monotonic() - stopped < OUTAGE_S:
            for name in seen:
                seen[name].append(await readyz_status(stack.processes[name].url))
            await asyncio.sleep(1.0)
    finally:
        kafka.start_broker()
    restarted = time.monotonic()

    async def both_ready() -> bool:
        return all([await readyz_status(stack.processes[n].url) == 200 for n in seen])

    await wait_until(both_ready, 120, "export and importer ready again", every_s=0.5)
    return {
        "unready_samples": {n: sum(s == 503 for s in v) for n, v in seen.items()},
        "samples": {n: len(v) for n, v in seen.items()},
        "ready_again_s": round(time.monotonic() - restarted, 1),
    }


@pytest.mark.timeout(240)
async def test_an_export_survives_a_kafka_outage_with_one_ready_event(
    stack: Stack, private_kafka: RestartableKafka
) -> None:
    account = await create_account(stack)
    await seed_contacts(stack, account, EXPORT_CONTACTS, padding=200)
    export_id = await request_export(stack, account, {"selection": {"all": True}, "format": "csv"})

    async def running() -> bool:
        return (await export_row(stack, export_id))["state"] != "requested"

    await wait_until(running, 60, "the export to start")
    figures = await outage(private_kafka, stack)
    recovered = time.monotonic()

    async def finished() -> dict[str, object] | None:
        row = await export_row(stack, export_id)
        return row if row["state"] in ("ready", "failed") and row["outcome_published"] else None

    final = await wait_until(finished, 120, "the export's outcome published")
    figures["published_after_s"] = round(time.monotonic() - recovered, 1)
    print(f"export through a {OUTAGE_S:.0f} s Kafka outage: {figures}, attempt {final['attempt']}")
    assert final["state"] == "ready", final
    assert final["row_count"] == EXPORT_CONTACTS
    assert figures["unready_samples"]["export"] > 0, figures  # type: ignore[index]
    await asyncio.sleep(3)  # room for a late duplicate
    assert await count_events(private_kafka.bootstrap, topics.EXPORT_READY, export_id) == 1
    assert await count_events(private_kafka.bootstrap, topics.EXPORT_FAILED, export_id) == 0


@pytest.mark.timeout(240)
async def test_an_import_survives_a_kafka_outage_and_applies_each_row_once(
    stack: Stack, private_kafka: RestartableKafka
) -> None:
    account = await create_account(stack)
    ids = await seed_contacts(stack, account, IMPORT_ROWS)
    import_id = await validated_import(stack, account, rename_sheet(ids))
    await start_import(stack, account, import_id)

    async def some_batches() -> bool:
        done, _, state = await batches_done(stack, import_id)
        return done >= 3 or state not in ("validated", "running")

    await wait_until(some_batches, 60, "3 batches")
    at_outage = await batches_done(stack, import_id)
    assert at_outage[2] == "running", "the run ended before the outage: nothing proven"
    figures = await outage(private_kafka, stack)
    figures["batches_at_outage"] = at_outage[0]
    figures["batches_at_recovery"] = (await batches_done(stack, import_id))[0]
    recovered = time.monotonic()

    async def finished() -> dict[str, object] | None:
        view = await get_import(stack.importer.url, account, import_id)
        return view if view["state"] in ("completed", "completed_with_errors", "failed") else None

    view = await wait_until(finished, 150, "the import to finish", every_s=0.5)
    figures["finished_after_s"] = round(time.monotonic() - recovered, 1)
    print(f"import through a {OUTAGE_S:.0f} s Kafka outage: {figures}")
    assert view["state"] == "completed", view
    assert view["result"] == {"created": 0, "updated": IMPORT_ROWS, "unchanged": 0, "skipped": 0, "failed": 0}
    proof = await exactly_once(stack, account, import_id, ids)
    assert proof.problems(IMPORT_ROWS) == []
    assert proof.batches_applied == (IMPORT_ROWS + BATCH - 1) // BATCH
    assert figures["unready_samples"]["importer"] > 0, figures  # type: ignore[index]
    await asyncio.sleep(3)
    assert await count_events(private_kafka.bootstrap, topics.IMPORT_FINISHED, import_id) == 1
    assert await count_events(private_kafka.bootstrap, topics.IMPORT_FAILED, import_id) == 0
