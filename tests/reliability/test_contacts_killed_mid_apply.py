"""The contacts service (which runs each bulk-apply batch in one transaction) SIGKILLed
while the importer's batches are being applied, three times, and restarted: the import
ends `completed` and every row is applied exactly once.

The import mixes updates and creates (3,000 rows: every fifth row has no ID), with a tag,
in batches of 100 (30 batches of 80 updates and 20 creates). The kills:

1. *Cut after the batch's creates were inserted.* The create rows of one batch (only
   those) name an owner, and the test holds that user's row `FOR UPDATE`: the batch's
   `INSERT INTO contacts` has drawn the new ids and written the rows, and waits on the
   foreign-key check of `owner_id`. The test sees it waiting (`pg_stat_activity`),
   SIGKILLs the contacts service, releases the lock.
2. *Cut at the lock of the batch's contacts.* The test holds one contact of a later
   batch `FOR UPDATE`: the batch has claimed its idempotency key and waits in
   `lock_contacts`. Same kill.
3. *Unslowed:* the moment a bulk-apply transaction with an xid is seen open (polled
   every few ms), the contacts service is SIGKILLed; it lands before or after the
   commit (then the retry replays the recorded outcomes).

Evidence that the kills were not vacuous, asserted: each stalled transaction (1, 2) is
`aborted` afterwards (`txid_status`), the importer logged bulk applies cut off in flight
(`RemoteProtocolError`), and the contact ids drawn by kill 1's cut creates are burned (at
least that many holes among the created contacts' ids) while each create row has exactly
one contact. Also noted (not asserted: it depends on how many batches the importer keeps
in flight): the batches committed and not yet recorded at each kill, whose retries get
their outcomes replayed.

Checked at the end: the job `completed` with 600 created and 2,400 updated; the change
log of the import holds exactly one row per changed field per sheet row (update rows:
name and tags; create rows: name, emails, tags, and owner for the owned ones); the
account holds exactly 600 new contacts, one per create row, with the expected values
and version 1; every updated contact is at version 2 with its new name and the tag; one
bulk-apply record per batch; the importer's row outcomes name the contacts that exist.

The contacts service restarts in 1-2 s here. The importer fails a run whose contacts
service stays unreachable for more than ~12 s (`import_retries_exhausted`: see
docs/reliability.md, section 8), so on a machine where a restart takes that long this
test fails for that reason, not for a row applied twice.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest

from services.contacts.adapters import accounts_store
from shared.postgres import init_connection
from tests.reliability.harness import (
    Account,
    PrivatePostgres,
    RestartableKafka,
    Stack,
    batches_done,
    create_account,
    get_import,
    log_since,
    log_size,
    seed_contacts,
    start_import,
    wait_until,
)

pytestmark = pytest.mark.timeout(300)

ROWS = 3_000
CREATE_EVERY = 5  # rows 5, 10, 15, ... of the sheet's contacts have no ID: creates
BATCH = 100
BATCHES = ROWS // BATCH
UPDATES = ROWS - ROWS // CREATE_EVERY
CREATES = ROWS // CREATE_EVERY
TAG = "corte-contatos"
OWNER = "Responsável do Corte"

# The statements of a bulk apply after it claimed its key (services/contacts/
# service_layer/bulk_apply.py, adapters/contact_writes.py): what a kill must land in.
BULK_APPLY_STATEMENTS = re.compile(
    r"bulk_apply_batches|FROM contacts .*FOR UPDATE|UPDATE contacts AS c|nextval\('contact_ids'\)"
    r"|INSERT INTO contacts|INSERT INTO contact_changes",
    re.S,
)
# The importer's client cut off while it waited for a bulk apply's answer: the warning
# the client logs before it tries the bulk apply again (shared/contacts_client.py).
CUT_IN_FLIGHT = re.compile(
    r"contacts service: contacts service unreachable: RemoteProtocolError\(.*\); trying POST \S+/bulk-apply again"
)


@pytest.fixture(scope="module")
def stack(private_postgres: PrivatePostgres, private_kafka: RestartableKafka) -> Iterator[Stack]:
    env = {"importer": {"IMPORTER_APPLY_BATCH_SIZE": str(BATCH), "IMPORTER_RUN_LEASE_S": "6"}}
    stack = Stack(private_postgres.port, private_kafka.bootstrap, extra_env=env, label="rel-contacts-kill")
    try:
        yield stack.start("contacts", "importer")
    finally:
        stack.stop()


@dataclass
class Kill:
    how: str
    batch: int  # batches recorded by the importer when it was killed
    statement: str  # what the bulk-apply transaction was running or had run last
    xid: int
    outcome: str = ""  # txid_status afterwards: aborted or committed
    applied_unrecorded: list[int] = field(default_factory=list)  # batches committed, not recorded: replayed
    restart_s: float = 0.0  # kill → contacts service ready again
    moving_again_s: float = 0.0  # kill → the importer recorded the next batch


@dataclass
class Sheet:
    content: bytes
    updates: dict[int, tuple[int, str]] = field(default_factory=dict)  # sheet row → (contact id, new name)
    creates: dict[int, tuple[str, str, bool]] = field(default_factory=dict)  # sheet row → (name, email, owned)


def build_sheet(account: Account, ids: list[int], owned_batch: int) -> Sheet:
    """ID;Nome;E-mail;Responsável. Update rows rename a seeded contact (`Pessoa n`, its
    email kept); create rows are new people; only the creates of `owned_batch` name the
    owner (the other cells are empty: no owner, as stored)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["ID", "Nome", "E-mail", "Responsável"])
    sheet = Sheet(b"")
    seeded = iter(enumerate(ids, start=1))
    for position in range(ROWS):
        row = position + 2  # as the spreadsheet shows it: 1 is the header
        if (position + 1) % CREATE_EVERY == 0:
            n = len(sheet.creates) + 1
            name, email = f"Nova Pessoa {n}", f"nova{n}.{account.account_id}@exemplo.com.br"
            owned = position // BATCH == owned_batch
            writer.writerow(["", name, email, OWNER if owned else ""])
            sheet.creates[row] = (name, email, owned)
        else:
            n, contact_id = next(seeded)
            name = f"Pessoa {n} Corte"
            writer.writerow([contact_id, name, f"pessoa{n}.{account.account_id}@exemplo.com.br", ""])
            sheet.updates[row] = (contact_id, name)
    sheet.content = out.getvalue().encode("utf-8-sig")
    return sheet


async def validated_import(stack: Stack, account: Account, content: bytes) -> str:
    url = stack.importer.url
    async with httpx.AsyncClient(headers=account.headers, timeout=120) as http:
        prepared = await http.post(f"{url}/v1/imports", files={"file": ("corte.csv", content)})
        assert prepared.status_code == 201, prepared.text
        import_id = str(prepared.json()["import_id"])
        body = {
            "fields": ["name", "emails", "owner"],
            "tag": TAG,
            "options": {"unknown_id": "create", "validate_recommended": False},
        }
        confirmed = await http.post(f"{url}/v1/imports/{import_id}/confirm", json=body)
        assert confirmed.status_code == 202, confirmed.text

    async def validated() -> dict[str, Any] | None:
        view = await get_import(url, account, import_id)
        assert view["state"] != "failed", view
        return view if view["state"] == "validated" else None

    view = await wait_until(validated, 180, f"import {import_id} validated", every_s=0.5)
    assert view["ready_to_start"], view
    return import_id


class Watch:
    """A connection to the contacts database that reads what the contacts service's
    backends are doing, and can hold row locks in transactions of its own."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.database = stack.database("contacts")
        self.holders: list[asyncpg.Connection] = []
        self.holder_pids: list[int] = []

    async def __aenter__(self) -> Watch:
        self.conn = await asyncpg.connect(self.stack.dsn("contacts"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for holder in self.holders:
            await holder.close()
        await self.conn.close()

    async def hold(self, sql: str, *args: object) -> asyncpg.Connection:
        """A transaction that has locked the row(s) `sql` selects `FOR UPDATE`."""
        holder = await asyncpg.connect(self.stack.dsn("contacts"))
        await holder.execute("BEGIN")
        locked = await holder.fetch(sql, *args)
        assert locked, sql
        self.holders.append(holder)
        self.holder_pids.append(await holder.fetchval("SELECT pg_backend_pid()"))
        return holder

    async def bulk_apply_backends(self, waiting: bool) -> list[asyncpg.Record]:
        """The contacts service's backends inside a bulk-apply transaction that has
        written (an xid); with `waiting`, only those waiting on a lock that one of our
        transactions holds (not a moment's wait on another batch, e.g. to extend the
        table, when the importer has two batches in flight)."""
        rows = await self.conn.fetch(
            """
            SELECT pid, backend_xid::text::bigint AS xid, state, query,
                   pg_blocking_pids(pid) && $2::int[] AS blocked_by_us
            FROM pg_stat_activity
            WHERE datname = $1 AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
              AND NOT (pid = ANY($2::int[]))
            """,
            self.database,
            self.holder_pids,
        )
        found = [r for r in rows if BULK_APPLY_STATEMENTS.search(r["query"])]
        return [r for r in found if r["blocked_by_us"]] if waiting else found

    async def status(self, xid: int) -> str | None:
        return await self.conn.fetchval("SELECT txid_status($1)", xid)


async def kill_contacts(stack: Stack, how: str, backend: asyncpg.Record, import_id: str) -> Kill:
    stack.contacts.kill()
    done, _, _ = await batches_done(stack, import_id)
    return Kill(how, done, " ".join(backend["query"].split())[:60], int(backend["xid"]))


async def recover(stack: Stack, watch: Watch, kill: Kill, import_id: str, killed_at: float) -> None:
    """Waits until the cut transaction has ended (PostgreSQL notices the lost client),
    notes the batches applied and not recorded, starts the contacts service again and
    waits until the run records a new batch."""

    async def ended() -> str | None:
        status = await watch.status(kill.xid)
        return status if status in ("aborted", "committed") else None

    kill.outcome = await wait_until(ended, 60, f"transaction {kill.xid} to end")
    # Batches the contacts service committed that the importer has not recorded (it sends
    # the next batches before recording): its retry gets their outcomes replayed. The
    # importer records what had returned at once; it is given a moment for that.
    await asyncio.sleep(0.3)
    recorded, _, _ = await batches_done(stack, import_id)
    keys = await watch.conn.fetch("SELECT idempotency_key FROM bulk_apply_batches WHERE import_id = $1", import_id)
    applied = (int(k["idempotency_key"].rsplit(":", 1)[1]) for k in keys)
    kill.applied_unrecorded = sorted(b for b in applied if b >= recorded)
    await asyncio.to_thread(stack.contacts.start, True, 120)
    kill.restart_s = round(time.monotonic() - killed_at, 2)

    async def moved() -> bool:
        done, _, state = await batches_done(stack, import_id)
        return done > kill.batch or state != "running"

    await wait_until(moved, 120, "the run to move again")
    kill.moving_again_s = round(time.monotonic() - killed_at, 2)


async def test_contacts_killed_mid_apply_every_row_applied_exactly_once(stack: Stack) -> None:
    rng = random.Random()
    owned_batch = rng.randint(4, 8)  # kill 1: its creates are cut after their insert
    locked_batch = rng.randint(owned_batch + 4, 16)  # kill 2: cut at the lock of its contacts
    account = await create_account(stack)
    conn = await asyncpg.connect(stack.dsn("contacts"))
    await init_connection(conn)
    try:
        owner = await accounts_store.add_user(conn, account.account_id, OWNER, "corte@exemplo.com.br")
    finally:
        await conn.close()
    ids = await seed_contacts(stack, account, UPDATES)
    sheet = build_sheet(account, ids, owned_batch)
    import_id = await validated_import(stack, account, sheet.content)
    locked_contact = next(cid for row, (cid, _) in sheet.updates.items() if (row - 2) // BATCH == locked_batch)
    importer_log = log_size(stack.importer.log_path)
    kills: list[Kill] = []
    async with Watch(stack) as watch:
        owner_lock = await watch.hold("SELECT id FROM users WHERE id = $1 FOR UPDATE", owner.id)
        contact_lock = await watch.hold("SELECT id FROM contacts WHERE id = $1 FOR UPDATE", locked_contact)
        started = time.monotonic()
        await start_import(stack, account, import_id)

        async def stalled() -> asyncpg.Record | None:
            found = await watch.bulk_apply_backends(waiting=True)
            return found[0] if found else None

        for how, holder in (("after the creates' insert", owner_lock), ("at the contacts' lock", contact_lock)):
            backend = await wait_until(stalled, 120, f"a bulk apply stalled {how}", every_s=0.05)
            killed_at = time.monotonic()
            kill = await kill_contacts(stack, how, backend, import_id)
            await holder.execute("ROLLBACK")  # the cut transaction goes on, and finds its client gone
            await recover(stack, watch, kill, import_id, killed_at)
            kills.append(kill)

        # Kill 3: unslowed, the moment a bulk-apply transaction is seen open (the run has
        # some 10 batches to go: if it ends first, there is no third kill).
        backend = None
        while backend is None and (await batches_done(stack, import_id))[2] == "running":
            for _ in range(50):
                found = await watch.bulk_apply_backends(waiting=False)
                if found:
                    backend = found[0]
                    break
                await asyncio.sleep(0.002)
        if backend is not None:
            killed_at = time.monotonic()
            kill = await kill_contacts(stack, "unslowed", backend, import_id)
            await recover(stack, watch, kill, import_id, killed_at)
            kills.append(kill)

    async def finished() -> dict[str, Any] | None:
        view = await get_import(stack.importer.url, account, import_id)
        return view if view["state"] in ("completed", "completed_with_errors", "failed") else None

    view = await wait_until(finished, 180, "the import to finish", every_s=0.5)
    run_s = round(time.monotonic() - started, 1)
    cut_in_flight = len(CUT_IN_FLIGHT.findall(log_since(stack.importer.log_path, importer_log)))
    proof = await proof_of_exactly_once(stack, account, import_id, sheet, owner.id)
    print(
        f"contacts service killed {len(kills)} times during an import of {ROWS} rows "
        f"({UPDATES} updates, {CREATES} creates, {BATCHES} batches), run {run_s} s: "
        f"{[vars(k) for k in kills]}; bulk applies cut in flight (importer log): {cut_in_flight}; "
        f"{proof}"
    )
    assert view["state"] == "completed", view
    assert view["result"] == {"created": CREATES, "updated": UPDATES, "unchanged": 0, "skipped": 0, "failed": 0}
    assert proof.problems == [], proof.problems
    # Not vacuous: the two stalled transactions were cut, with the importer waiting.
    assert [k.outcome for k in kills[:2]] == ["aborted", "aborted"], kills
    assert cut_in_flight >= 2, "the importer saw no bulk apply cut off in flight"
    # Kill 1 cut its batch in its INSERT INTO contacts: the ids it had drawn are burned
    # (sequences do not roll back), holes among the created contacts' ids, while each
    # create row has exactly one contact (above).
    assert kills[0].statement.startswith("INSERT INTO contacts"), kills[0]
    assert kills[1].statement.startswith("SELECT id, name"), kills[1]  # lock_contacts
    owned = sum(1 for (_, _, is_owned) in sheet.creates.values() if is_owned)
    assert proof.burned_ids >= owned, f"{proof.burned_ids} contact ids burned, kill 1 cut {owned} creates"


@dataclass
class Proof:
    changes: int = 0
    problems: list[str] = field(default_factory=list)
    burned_ids: int = 0  # contact ids drawn by cut transactions (gaps among the creates' ids)
    created_ids: dict[int, int] = field(default_factory=dict)  # create row → its contact

    def __str__(self) -> str:
        return f"{self.changes} change-log rows checked, {self.burned_ids} contact ids burned by cut creates"


async def proof_of_exactly_once(stack: Stack, account: Account, import_id: str, sheet: Sheet, owner_id: int) -> Proof:
    proof = Proof()
    problems = proof.problems
    conn = await asyncpg.connect(stack.dsn("contacts"))
    try:
        changes = await conn.fetch(
            "SELECT row_number, contact_id, field FROM contact_changes WHERE account_id = $1 AND import_id = $2",
            account.account_id,
            import_id,
        )
        contacts = {
            r["id"]: r
            for r in await conn.fetch(
                "SELECT id, name, emails, owner_id, tags, version FROM contacts WHERE account_id = $1",
                account.account_id,
            )
        }
        batches = await conn.fetchval(
            "SELECT count(*) FROM bulk_apply_batches WHERE account_id = $1 AND import_id = $2",
            account.account_id,
            import_id,
        )
    finally:
        await conn.close()
    conn = await asyncpg.connect(stack.dsn("importer"))
    try:
        outcomes = {
            r["row_number"]: r
            for r in await conn.fetch(
                "SELECT row_number, outcome, contact_id FROM import_row_outcomes WHERE import_id = $1::uuid",
                import_id,
            )
        }
    finally:
        await conn.close()
    proof.changes = len(changes)

    # The change log: exactly the expected fields, once each, for every sheet row.
    logged: dict[int, list[str]] = {}
    contact_of_row: dict[int, set[int]] = {}
    for change in changes:
        logged.setdefault(change["row_number"], []).append(change["field"])
        contact_of_row.setdefault(change["row_number"], set()).add(change["contact_id"])
    expected: dict[int, list[str]] = {row: ["name", "tags"] for row in sheet.updates}
    for row, (_, _, owned) in sheet.creates.items():
        expected[row] = ["name", "emails", *(["owner"] if owned else []), "tags"]
    wrong_rows = [
        row for row in expected.keys() | logged.keys() if sorted(logged.get(row, [])) != sorted(expected.get(row, []))
    ]
    if wrong_rows:
        row = min(wrong_rows)
        problems.append(
            f"{len(wrong_rows)} sheet rows with other changes than expected, e.g. row {row}: "
            f"{logged.get(row)} instead of {expected.get(row)}"
        )
    if any(len(ids) != 1 for ids in contact_of_row.values()):
        problems.append("a sheet row's changes name more than one contact")

    # Updated contacts: version 2, the new name, the tag, nothing else touched.
    for row, (contact_id, name) in sheet.updates.items():
        found = contacts.get(contact_id)
        if found is None or (found["name"], found["version"], found["tags"], found["owner_id"]) != (
            name,
            2,
            [TAG],
            None,
        ):
            problems.append(f"row {row}: contact {contact_id} is {dict(found) if found else None}")
            break
        if contact_of_row.get(row) != {contact_id}:
            problems.append(f"row {row}: change log names {contact_of_row.get(row)}, not {contact_id}")
            break

    # Created contacts: exactly one per create row, with its values, at version 1.
    updated_ids = {contact_id for contact_id, _ in sheet.updates.values()}
    created = {cid: c for cid, c in contacts.items() if cid not in updated_ids}
    if len(created) != len(sheet.creates) or len(contacts) != len(sheet.updates) + len(sheet.creates):
        problems.append(f"{len(created)} contacts created, expected {len(sheet.creates)} (no duplicates)")
    by_name: dict[str, list[int]] = {}
    for cid, c in created.items():
        by_name.setdefault(c["name"], []).append(cid)
    for row, (name, email, owned) in sheet.creates.items():
        matches = by_name.get(name, [])
        if len(matches) != 1:
            problems.append(f"row {row}: {len(matches)} contacts named {name!r}")
            continue
        c = created[matches[0]]
        proof.created_ids[row] = matches[0]
        values = (list(c["emails"]), c["owner_id"], list(c["tags"]), c["version"])
        if values != ([email], owner_id if owned else None, [TAG], 1):
            problems.append(f"row {row}: created contact {matches[0]} is {values}")
        if contact_of_row.get(row) != {matches[0]}:
            problems.append(f"row {row}: change log names {contact_of_row.get(row)}, not {matches[0]}")
        outcome = outcomes.get(row)
        if outcome is None or (outcome["outcome"], outcome["contact_id"]) != ("created", matches[0]):
            problems.append(f"row {row}: the importer recorded {dict(outcome) if outcome else None}")
    for row, (contact_id, _) in sheet.updates.items():
        outcome = outcomes.get(row)
        if outcome is None or (outcome["outcome"], outcome["contact_id"]) != ("updated", contact_id):
            problems.append(f"row {row}: the importer recorded {dict(outcome) if outcome else None}")
            break
    if len(outcomes) != ROWS:
        problems.append(f"{len(outcomes)} row outcomes recorded by the importer, expected {ROWS}")
    if batches != BATCHES:
        problems.append(f"{batches} bulk-apply batches recorded, expected {BATCHES}")
    if created:
        proof.burned_ids = max(created) - min(created) + 1 - len(created)
    del problems[20:]
    return proof
