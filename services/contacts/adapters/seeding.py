"""Loads generated demo contacts with COPY, generating the next chunk in a thread while
the server ingests the current one.

Two paths, both in one transaction (a failed seed leaves nothing behind):
- into a table that already holds contacts, rows are copied with every index live;
- into an empty `contacts` table (a fresh demo or bench database) with at least
  `REBUILD_AT_LEAST` rows to add, the table's secondary indexes are dropped first and
  built again, from their own definitions, after the load: building a GIN index once is
  many times cheaper than maintaining it row by row. The transaction holds an ACCESS
  EXCLUSIVE lock on `contacts` meanwhile (readers of the table wait for the seed), which
  is why this is only done while the table is empty.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import asyncpg

from services.contacts.adapters import accounts_store
from services.contacts.domain.custom_field_rules import FieldValueError
from services.contacts.domain.demo_data import COLUMNS, DEMO_CUSTOM_FIELDS, DEMO_OWNERS, DemoContactGenerator

CHUNK = 20_000
REBUILD_AT_LEAST = 50_000
# Session settings of the seeding transaction only (SET LOCAL): sorts for the index
# builds in memory, and no wait for the WAL flush at commit (a crash loses the seed, which
# can be run again, nothing else).
_SEED_SETTINGS = {
    "synchronous_commit": "off",
    "maintenance_work_mem": "512MB",
    "work_mem": "64MB",
}
log = logging.getLogger(__name__)


async def ensure_demo_setup(conn: asyncpg.Connection, account_id: int) -> None:
    """Owners and custom fields of the demo; those the account has already are kept."""
    existing_users = {u.email for u in await accounts_store.list_users(conn, account_id)}
    for name, email in DEMO_OWNERS:
        if email not in existing_users:
            await accounts_store.add_user(conn, account_id, name, email)
    existing_fields = {f.key for f in await accounts_store.list_custom_fields(conn, account_id)}
    for definition in DEMO_CUSTOM_FIELDS:
        if definition.key not in existing_fields:
            await accounts_store.create_custom_field(conn, account_id, definition)


async def seed_contacts(
    conn: asyncpg.Connection,
    account_id: int,
    count: int,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Adds `count` generated contacts to the account; returns how many were added.

    The generated custom values follow the demo's field definitions: an account seeded
    without `ensure_demo_setup` gets values of fields it has not defined."""
    rules, _ = await accounts_store.account_rules(conn, account_id)
    missing = [d.key for d in DEMO_CUSTOM_FIELDS if d.key not in rules.custom_fields]
    if missing:
        raise FieldValueError(missing[0], "the account lacks the demo's custom fields: run ensure_demo_setup")
    if count <= 0:
        return 0
    generator = DemoContactGenerator(account_id, sorted(rules.owner_ids), sorted(rules.stage_keys), seed)
    await _binary_jsonb(conn)  # COPY is binary, and the pool's jsonb codec is text
    try:
        async with conn.transaction():
            for name, value in _SEED_SETTINGS.items():
                await conn.execute("SELECT set_config($1, $2, true)", name, value)
            rebuilt = await _drop_indexes_if_empty(conn, count)
            done = await _copy_generated(conn, generator, count, progress)
            for definition in rebuilt:
                await conn.execute(definition)
    finally:
        await conn.reset_type_codec("jsonb", schema="pg_catalog")
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    if count >= REBUILD_AT_LEAST:
        await conn.execute("ANALYZE contacts")  # fresh statistics for the filters' plans
    return done


async def _copy_generated(
    conn: asyncpg.Connection,
    generator: DemoContactGenerator,
    count: int,
    progress: Callable[[int], None] | None,
) -> int:
    done = 0
    pending = asyncio.create_task(asyncio.to_thread(generator.rows, min(CHUNK, count)))
    while done < count:
        rows = await pending
        done += len(rows)
        if done < count:
            pending = asyncio.create_task(asyncio.to_thread(generator.rows, min(CHUNK, count - done)))
        await conn.copy_records_to_table("contacts", records=rows, columns=COLUMNS)
        if progress is not None:
            progress(done)
    return done


async def _drop_indexes_if_empty(conn: asyncpg.Connection, count: int) -> list[str]:
    """Drops the secondary indexes of `contacts` if the table is empty and the seed large;
    returns their definitions to run after the load (in the same transaction)."""
    if count < REBUILD_AT_LEAST:
        return []
    # The lock first, so that no row can arrive between the check and the drop.
    await conn.execute("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE")
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM contacts)"):
        return []
    rows = await conn.fetch(
        """
        SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index AS i
        JOIN pg_class AS c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'contacts'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname
        """
    )
    log.warning(
        "seeding %d contacts into an empty contacts table: its %d secondary indexes are rebuilt "
        "after the load; the table is locked until the seed commits",
        count,
        len(rows),
    )
    for row in rows:
        await conn.execute(f'DROP INDEX "{row["name"]}"')
    return [row["definition"] for row in rows]


async def _binary_jsonb(conn: asyncpg.Connection) -> None:
    # jsonb's binary form is a version byte (1) and the JSON text.
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: b"\x01" + json.dumps(value, ensure_ascii=False).encode(),
        decoder=lambda data: json.loads(data[1:]),
        schema="pg_catalog",
        format="binary",
    )
