"""Two export service instances on one consumer group (`contacts.export.requested` has 6
partitions, 3 each). The instance building an export is SIGKILLed while the file's
multipart upload runs; once the dead member's session times out (aiokafka's default
10 s: the service does not change it), Kafka gives its partitions to the other instance,
which gets the request again (its offset was never committed) and builds the export from
the start. Asserted: `ready` with the complete file (every contact exactly once), exactly
one ready event and no failed one, no object visible under the export's key before it was
ready, and no unfinished multipart upload left under it."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import csv
import io
import random
import time
from collections.abc import Iterator

import pytest

from shared import topics
from tests.reliability.harness import (
    PrivatePostgres,
    RestartableKafka,
    Stack,
    assigned_partitions,
    count_events,
    create_account,
    export_row,
    log_since,
    log_size,
    objects_under,
    request_export,
    s3_client,
    seed_contacts,
    uploads_under,
    wait_until,
)
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.timeout(300)

# As in test_export_killed_mid_upload.py: ~2 KB a row, a ~125 MB file in some fifteen
# 8 MiB parts, a few seconds of upload.
CONTACTS = 60_000
PADDING = 2000
ALL_PARTITIONS = set(range(topics.JOB_TOPIC_PARTITIONS))


@pytest.fixture(scope="module")
def replicas(
    private_postgres: PrivatePostgres, private_kafka: RestartableKafka
) -> Iterator[tuple[Stack, ServiceProcess, ServiceProcess]]:
    stack = Stack(private_postgres.port, private_kafka.bootstrap, label="rel-export-replicas")
    second = stack.replica("export")
    try:
        stack.start("contacts", "export")
        second.start(timeout_s=120)
        yield stack, stack.export, second
    finally:
        second.stop()
        stack.stop()


async def test_killing_the_export_replica_building_an_export_lets_the_other_finish_it(
    replicas: tuple[Stack, ServiceProcess, ServiceProcess], private_kafka: RestartableKafka
) -> None:
    stack, one, two = replicas
    request_topic = topics.EXPORT_REQUESTED

    async def partitions_split() -> bool:
        first = assigned_partitions(one.log_path, request_topic)
        second = assigned_partitions(two.log_path, request_topic)
        return bool(first and second and not first & second and first | second == ALL_PARTITIONS)

    await wait_until(partitions_split, 60, "the two instances to share the request topic's partitions")
    account = await create_account(stack)
    ids = await seed_contacts(stack, account, CONTACTS, padding=PADDING)
    log_start = {instance.log_path: log_size(instance.log_path) for instance in (one, two)}
    export_id = await request_export(stack, account, {"selection": {"all": True}, "format": "csv"})
    prefix = f"exports/{account.account_id}/{export_id}/"
    early_objects: list[tuple[str, int, str]] = []  # anything visible before `ready`
    watching = True

    async def watch_objects() -> None:
        while watching:
            state = (await export_row(stack, export_id))["state"]
            found = await asyncio.to_thread(objects_under, stack.bucket, prefix)
            if found and state != "ready":
                state = (await export_row(stack, export_id))["state"]  # it may have just turned ready
                if state != "ready":
                    early_objects.extend((key, size, state) for key, size in found)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_objects())
    try:
        uploading = await wait_until(
            lambda: asyncio.to_thread(uploads_under, stack.bucket, prefix), 120, "a multipart upload", 0.05
        )
        # The instance building it: the one whose log received the request.
        receivers = [i for i in (one, two) if " - Received" in log_since(i.log_path, log_start[i.log_path])]
        assert len(receivers) == 1, f"the request was received by {len(receivers)} instances"
        victim = receivers[0]
        survivor = two if victim is one else one
        await asyncio.sleep(random.uniform(0, 0.3))  # within the upload's first part or two
        survivor_log_start = log_size(survivor.log_path)
        victim.kill()
        killed = time.monotonic()
        at_kill = await export_row(stack, export_id)
        assert at_kill["state"] == "running", f"the export ended before the kill: nothing proven ({at_kill['state']})"
        assert await asyncio.to_thread(objects_under, stack.bucket, prefix) == []

        figures: dict[str, object] = {
            "killed": "first" if victim is one else "second",
            "attempt_at_kill": at_kill["attempt"],
            "uploads_at_kill": len(uploading),
        }

        async def taken_over() -> bool:
            survivor_has = assigned_partitions(survivor.log_path, request_topic)
            if "rebalanced_s" not in figures and survivor_has == ALL_PARTITIONS:
                figures["rebalanced_s"] = round(time.monotonic() - killed, 1)
            current = await export_row(stack, export_id)
            return current["attempt"] > at_kill["attempt"] or current["state"] != "running"

        await wait_until(taken_over, 90, "the survivor to take the export up")
        figures["taken_over_s"] = round(time.monotonic() - killed, 1)

        async def finished() -> dict[str, object] | None:
            current = await export_row(stack, export_id)
            return current if current["state"] in ("ready", "failed") else None

        final = await wait_until(finished, 120, "the export to end ready or failed")
        figures["ready_s"] = round(time.monotonic() - killed, 1)
    finally:
        watching = False
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

    print(f"export {export_id}: {figures}; final {final['state']} at attempt {final['attempt']}")
    assert final["state"] == "ready", final
    assert final["attempt"] == at_kill["attempt"] + 1, "one take-over, by the survivor"
    assert " - Received" in log_since(survivor.log_path, survivor_log_start), "not redelivered to the survivor"
    assert assigned_partitions(survivor.log_path, request_topic) == ALL_PARTITIONS
    assert early_objects == [], f"objects visible under the export's key before it was ready: {early_objects}"

    # The complete file: a header and each contact exactly once.
    assert final["row_count"] == CONTACTS
    objects = await asyncio.to_thread(objects_under, stack.bucket, prefix)
    assert objects == [(final["object_key"], final["size_bytes"])], objects
    body = await asyncio.to_thread(lambda: s3_client().get_object(stack.bucket, final["object_key"]).read())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][0] == "ID" and len(rows) == CONTACTS + 1, "header + one line a contact"
    times_each = collections.Counter(int(row[0]) for row in rows[1:])
    assert set(times_each) == set(ids) and set(times_each.values()) == {1}, "every contact exactly once"

    # One outcome: the dead instance never got to publish one, the survivor published one.
    await asyncio.sleep(2)  # a late duplicate would be on the topic by now
    assert await count_events(private_kafka.bootstrap, topics.EXPORT_READY, export_id) == 1
    assert await count_events(private_kafka.bootstrap, topics.EXPORT_FAILED, export_id) == 0

    # The killed attempt's multipart upload was aborted by the survivor's attempt
    # (build_export aborts the unfinished uploads under the export's prefix first).
    leftover = await asyncio.to_thread(uploads_under, stack.bucket, prefix)
    assert leftover == [], f"{len(leftover)} unfinished multipart upload(s) left under {prefix}"
