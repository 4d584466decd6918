"""Loads generated demo contacts with COPY, generating the next chunk in a thread while
the server ingests the current one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import asyncpg

from services.contacts.adapters import accounts_store
from services.contacts.domain.custom_field_rules import FieldValueError
from services.contacts.domain.demo_data import COLUMNS, DEMO_CUSTOM_FIELDS, DEMO_OWNERS, DemoContactGenerator

CHUNK = 20_000


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
    stages = sorted(rules.stage_keys)
    generator = DemoContactGenerator(account_id, sorted(rules.owner_ids), stages, seed)
    await _binary_jsonb(conn)  # COPY is binary, and the pool's jsonb codec is text
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
    await conn.reset_type_codec("jsonb", schema="pg_catalog")
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    return done


async def _binary_jsonb(conn: asyncpg.Connection) -> None:
    # jsonb's binary form is a version byte (1) and the JSON text.
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: b"\x01" + json.dumps(value, ensure_ascii=False).encode(),
        decoder=lambda data: json.loads(data[1:]),
        schema="pg_catalog",
        format="binary",
    )
