"""Loads generated demo contacts with one binary COPY, the next chunks generated and
encoded in other processes (in a thread for a small seed) while the server ingests the
current one.

Two paths:
- into a table that already holds contacts, rows are copied with every index live, in
  one transaction (a failed seed leaves nothing behind);
- into an empty `contacts` table (a fresh demo or bench database) with at least
  `REBUILD_AT_LEAST` rows to add, the load transaction takes an ACCESS EXCLUSIVE lock on
  `contacts`, drops its secondary indexes and its foreign keys, copies, and adds the
  foreign keys back (one validating join instead of two lookups per row). The indexes
  are then built from their own definitions, once each: many times cheaper than
  maintaining a GIN index row by row.
  - Without `connect`, they are built in the load transaction: all or nothing, one core.
  - With `connect` (how to open more connections to the same database), the load
    commits first, recording each index in `contacts_deferred_indexes`, and
    `INDEX_BUILDERS` connections build them at once (PostgreSQL 15 builds each GIN
    index on one core). Each build deletes its record in its own transaction, so an
    interrupted seed leaves exactly what is still to build recorded, and the next seed
    (or `build_deferred_indexes`) builds it. Until then the rows are there but the
    filters missing an index are slow.
Then VACUUM (ANALYZE): fresh statistics for the filters' plans, and the visibility map
that index-only scans need.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.contacts.adapters import accounts_store
from services.contacts.domain.custom_field_rules import (
    CustomFieldDefinition,
    FieldValueError,
    custom_field_numbers,
    number_indexed_fields,
)
from services.contacts.domain.demo_data import COLUMNS, DEMO_CUSTOM_FIELDS, DEMO_OWNERS, DemoContactGenerator
from shared.fields import FieldType

CHUNK = 20_000
REBUILD_AT_LEAST = 50_000
# Processes generating and encoding the rows: the server ingests a million rows with
# ~10 s of CPU, while Python needs ~25 s to make and encode them (measured on 2 vCPUs).
GENERATORS = min(2, os.cpu_count() or 1)
GENERATE_IN_PROCESSES_AT_LEAST = 100_000
INDEX_BUILDERS = 2
# Settings of the seeding transactions only (SET LOCAL): sorts for the index builds in
# memory, and no wait for the WAL flush at commit (a crash loses the seed, which can be
# run again, nothing else).
_SEED_SETTINGS = {
    "synchronous_commit": "off",
    "maintenance_work_mem": "512MB",
    "work_mem": "64MB",
}
Connect = Callable[[], Awaitable[asyncpg.Connection]]
log = logging.getLogger(__name__)


@dataclass
class _Deferred:
    """What the load into an empty table took off `contacts`: name → definition."""

    indexes: dict[str, str] = field(default_factory=dict)
    foreign_keys: dict[str, str] = field(default_factory=dict)


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
    *,
    connect: Connect | None = None,
) -> int:
    """Adds `count` generated contacts to the account; returns how many were added.

    Their `created_at` spread over the demo's three years up to now (see demo_data). The
    generated custom values follow the demo's field definitions: an account seeded
    without `ensure_demo_setup` gets values of fields it has not defined. `connect`: see
    the module's docstring."""
    rules, _ = await accounts_store.account_rules(conn, account_id)
    missing = [d.key for d in DEMO_CUSTOM_FIELDS if d.key not in rules.custom_fields]
    if missing:
        raise FieldValueError(missing[0], "the account lacks the demo's custom fields: run ensure_demo_setup")
    if count <= 0:
        return 0
    await build_deferred_indexes(conn, connect)  # what an interrupted seed left
    until = await conn.fetchval("SELECT now()")
    chunks = [
        _Chunk(
            account_id,
            sorted(rules.owner_ids),
            sorted(rules.stage_keys),
            _demo_number_fields(rules.custom_fields),
            f"{seed}/{start // CHUNK}",
            until,
            count,
            start,
            min(CHUNK, count - start),
        )
        for start in range(0, count, CHUNK)
    ]
    async with conn.transaction():
        await _set_local(conn)
        deferred = await _defer_if_empty(conn, count)
        with _timed("copy of %d contacts", count):
            await _copy_generated(conn, chunks, progress)
        for name, definition in deferred.foreign_keys.items():
            with _timed("foreign key %s checked", name):
                await conn.execute(f'ALTER TABLE contacts ADD CONSTRAINT "{name}" {definition}')
        if connect is None:
            for name, definition in deferred.indexes.items():
                with _timed("index %s built", name):
                    await conn.execute(definition)
        elif deferred.indexes:
            await conn.executemany(
                "INSERT INTO contacts_deferred_indexes (name, definition) VALUES ($1, $2)",
                list(deferred.indexes.items()),
            )
    if deferred.indexes and connect is not None:
        with _timed("%d deferred indexes built by %d connections", len(deferred.indexes), INDEX_BUILDERS):
            await build_deferred_indexes(conn, connect)
    if count >= REBUILD_AT_LEAST:
        # VACUUM cannot run in a caller's transaction; ANALYZE can.
        statement = "ANALYZE contacts" if conn.is_in_transaction() else "VACUUM (ANALYZE) contacts"
        with _timed("%s", statement):
            await conn.execute(statement)
    return count


async def build_deferred_indexes(conn: asyncpg.Connection, connect: Connect | None = None) -> list[str]:
    """Builds the indexes recorded in `contacts_deferred_indexes`, on `conn` and, with
    `connect`, on `INDEX_BUILDERS - 1` more connections at once; returns their names.
    Raises the first build's error once every builder is done (the indexes that failed
    stay recorded)."""
    rows = await conn.fetch("SELECT name, definition FROM contacts_deferred_indexes")
    if not rows:
        return []
    # Longest first (GIN, then GiST, then btree; more columns first), so that the
    # builders end together.
    queue = sorted(
        ((r["name"], r["definition"]) for r in rows),
        key=lambda item: ("USING btree" in item[1], "USING gin" not in item[1], -item[1].count(","), item[0]),
    )
    log.warning("building %d deferred indexes of contacts: %s", len(queue), ", ".join(n for n, _ in queue))
    extra = [await connect() for _ in range(min(INDEX_BUILDERS, len(queue)) - 1)] if connect else []
    errors: list[BaseException] = []

    async def builder(builder_conn: asyncpg.Connection) -> None:
        while queue:
            name, definition = queue.pop(0)
            try:
                with _timed("index %s built", name):
                    async with builder_conn.transaction():
                        await _set_local(builder_conn)
                        await builder_conn.execute(_if_not_exists(definition))
                        await builder_conn.execute("DELETE FROM contacts_deferred_indexes WHERE name = $1", name)
            except Exception as error:  # the other indexes are still built
                log.error("building the deferred index %s failed: %s", name, error)
                errors.append(error)

    try:
        await asyncio.gather(*(builder(c) for c in [conn, *extra]))
    finally:
        for c in extra:
            await c.close()
    if errors:
        raise errors[0]
    return [r["name"] for r in rows]


@contextlib.contextmanager
def _timed(what: str, *args: object) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log.info(what + " in %.1f s", *args, time.perf_counter() - started)


async def _set_local(conn: asyncpg.Connection) -> None:
    for name, value in _SEED_SETTINGS.items():
        await conn.execute("SELECT set_config($1, $2, true)", name, value)


def _if_not_exists(definition: str) -> str:
    for prefix in ("CREATE INDEX ", "CREATE UNIQUE INDEX "):
        if definition.startswith(prefix):
            return prefix + "IF NOT EXISTS " + definition[len(prefix) :]
    return definition


async def _copy_generated(
    conn: asyncpg.Connection, chunks: Sequence[_Chunk], progress: Callable[[int], None] | None
) -> None:
    """One binary COPY of every chunk, in order. Each chunk is generated and encoded
    apart (in `GENERATORS` processes for a large seed, else in a thread) while the server
    ingests the previous ones."""
    executor: Executor | None = None
    ahead = 1
    if GENERATORS > 1 and sum(c.count for c in chunks) >= GENERATE_IN_PROCESSES_AT_LEAST:
        # fork (Linux's default): a spawned child would run the caller's main module again,
        # and a script without the `if __name__ == "__main__"` idiom would seed again.
        # The children only compute: the event loop and sockets they inherit stay unused.
        executor = ProcessPoolExecutor(GENERATORS, mp_context=multiprocessing.get_context("fork"))
        ahead = 2 * GENERATORS  # bounded: each chunk in flight is ~8 MB
    loop = asyncio.get_running_loop()

    async def stream() -> AsyncIterator[bytes]:
        yield _COPY_HEADER
        pending = [loop.run_in_executor(executor, encoded_chunk, c) for c in chunks[:ahead]]
        done = 0
        for index, chunk in enumerate(chunks):
            data = await pending.pop(0)
            if index + ahead < len(chunks):
                pending.append(loop.run_in_executor(executor, encoded_chunk, chunks[index + ahead]))
            yield data
            done += chunk.count
            if progress is not None:
                progress(done)
        yield _COPY_TRAILER

    try:
        await conn.copy_to_table("contacts", source=stream(), columns=list(_COPY_COLUMNS), format="binary")
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)


def _demo_number_fields(definitions: Mapping[str, CustomFieldDefinition]) -> dict[str, FieldType]:
    # The generator writes the demo's types: a field the account defined otherwise under
    # a demo key holds values that are no numbers of its type (see seed_contacts).
    demo_types = {d.key: d.type for d in DEMO_CUSTOM_FIELDS}
    return {key: t for key, t in number_indexed_fields(definitions).items() if demo_types.get(key) is t}


@dataclass(frozen=True)
class _Chunk:
    """`count` contacts of a seed from its `start`-th on, drawn with a seed of their own
    (the same contacts whoever draws them, in whatever order)."""

    account_id: int
    owner_ids: list[int]
    stage_keys: list[str]
    number_fields: dict[str, FieldType]
    seed: str
    until: datetime
    total: int
    start: int
    count: int


def encoded_chunk(chunk: _Chunk) -> bytes:
    """The chunk's rows in PostgreSQL's binary COPY format (without header and trailer)."""
    generator = DemoContactGenerator(
        chunk.account_id,
        chunk.owner_ids,
        chunk.stage_keys,
        chunk.seed,
        until=chunk.until,
        total=chunk.total,
        first_serial=chunk.start,
    )
    return b"".join([_encode_row(row, chunk.number_fields) for row in generator.rows(chunk.count)])


# Binary COPY (PostgreSQL's "COPY ... FORMAT binary"): a header, then per row the field
# count and each field as its length (-1: NULL) and its binary form, then -1. Encoded
# here rather than by asyncpg's copy_records_to_table so that it can run in another
# process, next to the generation.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)
# The generated columns, then the numbers of the decimal and datetime values, which the
# account's definitions (not the generator's) say how to read.
_COPY_COLUMNS = (*COLUMNS, "custom_field_numbers")
_ROW_START = struct.pack("!h", len(_COPY_COLUMNS))
_LENGTH = struct.Struct("!i").pack
_INT8 = struct.Struct("!iq").pack
_ARRAY_HEAD = struct.Struct("!iiiiii").pack  # length, ndim 1, no NULLs, element type, size, lower bound
_NULL = _LENGTH(-1)
_TRUE, _FALSE = _LENGTH(1) + b"\x01", _LENGTH(1) + b"\x00"
_TEXT_OID = 25
_EMPTY_TEXT_ARRAY = struct.pack("!iiii", 12, 0, 0, _TEXT_OID)
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _encode_row(row: tuple[Any, ...], number_fields: dict[str, FieldType]) -> bytes:
    # COLUMNS: account_id, name, emails, phones, company, job_title, lifecycle_stage,
    # owner_id, legal_entity, tags, custom_fields, created_at, updated_at.
    account_id, name, emails, phones, company, job_title, stage, owner, legal, tags, custom, created, updated = row
    return b"".join(
        (
            _ROW_START,
            _INT8(8, account_id),
            _text(name),
            _text_array(emails),
            _text_array(phones),
            _NULL if company is None else _text(company),
            _NULL if job_title is None else _text(job_title),
            _NULL if stage is None else _text(stage),
            _NULL if owner is None else _INT8(8, owner),
            _TRUE if legal else _FALSE,
            _text_array(tags),
            _jsonb(custom),
            _INT8(8, (created - _POSTGRES_EPOCH) // _MICROSECOND),
            _INT8(8, (updated - _POSTGRES_EPOCH) // _MICROSECOND),
            _jsonb_text(custom_field_numbers(custom, number_fields)),
        )
    )


def _text(value: str) -> bytes:
    data = value.encode()
    return _LENGTH(len(data)) + data


def _text_array(values: list[str]) -> bytes:
    if not values:
        return _EMPTY_TEXT_ARRAY
    items = [v.encode() for v in values]
    size = 20 + sum(4 + len(i) for i in items)
    return _ARRAY_HEAD(size, 1, 0, _TEXT_OID, len(items), 1) + b"".join(_LENGTH(len(i)) + i for i in items)


def _jsonb(value: dict[str, Any]) -> bytes:
    return _jsonb_text(json.dumps(value, ensure_ascii=False))


def _jsonb_text(text: str) -> bytes:
    data = text.encode()
    return _LENGTH(len(data) + 1) + b"\x01" + data  # jsonb's binary form: version 1, then the text


async def _defer_if_empty(conn: asyncpg.Connection, count: int) -> _Deferred:
    """Drops the secondary indexes and the foreign keys of `contacts` if the table is
    empty and the seed large; returns their definitions (in the same transaction)."""
    deferred = _Deferred()
    if count < REBUILD_AT_LEAST:
        return deferred
    # The lock first, so that no row can arrive between the check and the drop.
    await conn.execute("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE")
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM contacts)"):
        return deferred
    indexes = await conn.fetch(
        """
        SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index AS i
        JOIN pg_class AS c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'contacts'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname
        """
    )
    # Each row copied would check both references with a query of its own (~12 s per
    # million rows); adding the constraints back checks all rows in one join (~1.5 s).
    foreign_keys = await conn.fetch(
        """
        SELECT conname AS name, pg_get_constraintdef(oid) AS definition
        FROM pg_constraint
        WHERE conrelid = 'contacts'::regclass AND contype = 'f'
        ORDER BY conname
        """
    )
    log.warning(
        "seeding %d contacts into an empty contacts table: its %d secondary indexes are built after the "
        "load and its %d foreign keys checked once; the table is locked until the load commits",
        count,
        len(indexes),
        len(foreign_keys),
    )
    for row in foreign_keys:
        await conn.execute(f'ALTER TABLE contacts DROP CONSTRAINT "{row["name"]}"')
        deferred.foreign_keys[row["name"]] = row["definition"]
    for row in indexes:
        await conn.execute(f'DROP INDEX "{row["name"]}"')
        deferred.indexes[row["name"]] = row["definition"]
    return deferred
