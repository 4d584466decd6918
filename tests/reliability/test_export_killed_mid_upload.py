"""The export service SIGKILLed while the multipart upload of a file runs, twice, and
restarted: the export ends `ready` with the complete file or `failed`, never stays
`running`; no object is visible under the export's key before it is ready, and no
unfinished multipart upload (invisible parts) is left under it."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import random
import time
from collections.abc import Iterator

import pytest

from tests.reliability.harness import (
    Account,
    PrivatePostgres,
    RestartableKafka,
    Stack,
    create_account,
    export_row,
    objects_under,
    request_export,
    s3_client,
    seed_contacts,
    uploads_under,
    wait_until,
)

pytestmark = pytest.mark.timeout(300)

# About 2 KB a row: a file of ~125 MB, some fifteen 8 MiB parts. PostgreSQL renders a CSV
# export's rows (~60k rows a second here), so the upload, not the formatting, is what a
# kill must land in: a 20 MB file was done before the kill.
CONTACTS = 60_000
PADDING = 2000
KILLS = 2


@pytest.fixture(scope="module")
def stack(private_postgres: PrivatePostgres, private_kafka: RestartableKafka) -> Iterator[Stack]:
    stack = Stack(private_postgres.port, private_kafka.bootstrap, label="rel-export-kill")
    try:
        yield stack.start("contacts", "export")
    finally:
        stack.stop()


async def test_an_export_killed_mid_upload_ends_ready_and_complete_or_failed(stack: Stack) -> None:
    rng = random.Random()
    account: Account = await create_account(stack)
    await seed_contacts(stack, account, CONTACTS, padding=PADDING)
    export_id = await request_export(stack, account, {"selection": {"all": True}, "format": "csv"})
    prefix = f"exports/{account.account_id}/{export_id}/"
    early_objects: list[tuple[str, int, str]] = []  # anything visible before `ready`
    watching = True

    async def watch_objects() -> None:
        while watching:
            state = (await export_row(stack, export_id))["state"]
            found = await asyncio.to_thread(objects_under, stack.bucket, prefix)
            if found and state != "ready":
                # The row may have turned ready between the two reads: read it again.
                state = (await export_row(stack, export_id))["state"]
                if state != "ready":
                    early_objects.extend((key, size, state) for key, size in found)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_objects())
    kills: list[dict[str, object]] = []
    # Uploads of earlier attempts: the upload a kill waits for must be this attempt's (a
    # killed attempt's upload stays listed until the next attempt aborts it).
    known_uploads: set[str] = set()

    async def new_uploads() -> list[str]:
        listed = await asyncio.to_thread(uploads_under, stack.bucket, prefix)
        return [upload_id for upload_id in listed if upload_id not in known_uploads]

    try:
        for _ in range(KILLS):
            uploading = await wait_until(new_uploads, 120, "a multipart upload of this attempt", 0.05)
            known_uploads.update(uploading)
            # Within the upload's first parts: the whole export takes a few seconds on an
            # idle machine, a later kill could find it finished.
            await asyncio.sleep(rng.uniform(0, 0.3))
            stack.export.kill()
            killed = time.monotonic()
            row = await export_row(stack, export_id)
            kills.append({"state": row["state"], "attempt": row["attempt"], "uploads": len(uploading)})
            assert row["state"] == "running", f"the export ended before the kill: nothing proven ({row['state']})"
            assert await asyncio.to_thread(objects_under, stack.bucket, prefix) == []
            stack.export.start()

            async def next_attempt(attempt: int = row["attempt"]) -> bool:
                current = await export_row(stack, export_id)
                return current["attempt"] > attempt or current["state"] != "running"

            await wait_until(next_attempt, 120, "the export to be taken up again")
            kills[-1]["resumed_after_s"] = round(time.monotonic() - killed, 1)

        async def finished() -> dict[str, object] | None:
            current = await export_row(stack, export_id)
            return current if current["state"] in ("ready", "failed") else None

        final = await wait_until(finished, 180, "the export to end ready or failed")
    finally:
        watching = False
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

    print(f"kills: {kills}; final: {final['state']} attempt {final['attempt']}")
    assert early_objects == [], f"objects visible under the export's key before it was ready: {early_objects}"
    objects = await asyncio.to_thread(objects_under, stack.bucket, prefix)
    if final["state"] == "failed":
        assert objects == [] and final["error_code"], final
        return
    assert final["row_count"] == CONTACTS
    assert objects == [(final["object_key"], final["size_bytes"])], objects
    body = await asyncio.to_thread(lambda: s3_client().get_object(stack.bucket, final["object_key"]).read())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert len(rows) == CONTACTS + 1, "header + one line a contact"
    assert len({r[0] for r in rows[1:]}) == CONTACTS, "each contact once"
    # The killed attempts' multipart uploads were aborted by the next attempt (build_export
    # aborts the unfinished uploads under the export's prefix first): no parts left behind.
    leftover = await asyncio.to_thread(uploads_under, stack.bucket, prefix)
    assert leftover == [], f"{len(leftover)} unfinished multipart upload(s) left under {prefix}"
