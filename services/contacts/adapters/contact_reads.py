"""Reading contacts: by id, a filtered page, a selection's count and its stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

import asyncpg

from services.contacts.domain.contact_filter import WhereClause
from services.contacts.domain.contact_state import ContactState
from services.contacts.domain.csv_rendition import CsvRowsQuery, CsvRowsSent, ShownCellsQuery
from shared.contacts_api import ContactRecord

log = logging.getLogger(__name__)

CONTACT_COLUMNS = (
    "id, account_id, name, emails, phones, company, job_title, lifecycle_stage, owner_id, "
    "legal_entity, tags, custom_fields, created_at, updated_at, version"
)
STREAM_PREFETCH = 1_000
# One contact as the JSON of a ContactRecord, built by PostgreSQL: the stream of a
# million contacts then costs the service no decoding and no encoding per row. Keys are
# ContactRecord's fields; timestamps are ISO 8601 with the session zone's offset (see
# `stream_json`), custom_fields is the stored jsonb as it is.
CONTACT_JSON_OBJECT = (
    "json_build_object('id', id, 'account_id', account_id, 'name', name, 'emails', emails, "
    "'phones', phones, 'company', company, 'job_title', job_title, 'lifecycle_stage', lifecycle_stage, "
    "'owner_id', owner_id, 'legal_entity', legal_entity, 'tags', tags, 'custom_fields', custom_fields, "
    "'created_at', created_at, 'updated_at', updated_at, 'version', version)"
)
CONTACT_JSON = CONTACT_JSON_OBJECT + "::text"


def to_record(row: asyncpg.Record) -> ContactRecord:
    # Values come typed from the database; skipping validation keeps streams fast.
    return ContactRecord.model_construct(**dict(row))


def to_state(row: asyncpg.Record | ContactRecord) -> ContactState:
    get: Any = row.__getitem__ if isinstance(row, asyncpg.Record) else row.__getattribute__
    return ContactState(
        name=get("name"),
        emails=list(get("emails")),
        phones=list(get("phones")),
        company=get("company"),
        job_title=get("job_title"),
        lifecycle_stage=get("lifecycle_stage"),
        owner=get("owner_id"),
        legal_entity=get("legal_entity"),
        tags=list(get("tags")),
        custom_fields=dict(get("custom_fields")),
    )


async def get_contact(conn: asyncpg.Connection, account_id: int, contact_id: int) -> ContactRecord | None:
    row = await conn.fetchrow(
        f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE account_id = $1 AND id = $2",
        account_id,
        contact_id,
    )
    return to_record(row) if row is not None else None


async def get_contacts(conn: asyncpg.Connection, account_id: int, ids: Sequence[int]) -> list[ContactRecord]:
    rows = await conn.fetch(
        f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE account_id = $1 AND id = ANY($2::bigint[]) ORDER BY id",
        account_id,
        list(ids),
    )
    return [to_record(r) for r in rows]


async def get_contacts_json(conn: asyncpg.Connection, account_id: int, ids: Sequence[int]) -> str:
    """As `get_contacts`, as the JSON text of a list of ContactRecord built by PostgreSQL
    (see `CONTACT_JSON`): a lookup of a thousand contacts then costs the service no
    decoding and no encoding per row."""
    async with conn.transaction(readonly=True):
        # Timestamps in UTC whatever the server's zone; SET LOCAL ends with the transaction.
        await conn.execute("SET LOCAL TimeZone = 'UTC'")
        text: str = await conn.fetchval(
            f"""
            SELECT coalesce(json_agg({CONTACT_JSON_OBJECT} ORDER BY id), '[]')::text
            FROM contacts WHERE account_id = $1 AND id = ANY($2::bigint[])
            """,
            account_id,
            list(ids),
        )
    return text


# A page whose filter the planner cannot estimate (WhereClause.unsure_selectivity) walks
# at most this many of the account's contacts in id order; if they hold fewer matches
# than the page, the matches are rare, and the rest of the page is read from the indexes
# (a bitmap of the matches after them). Without the bound, a custom value that matches
# few contacts or none walked the whole account: 1 s at 1M contacts.
BOUNDED_WALK_ROWS = 2_000
# The walk in id order, then the bitmap of the matches: each the only way its query can
# take (a bitmap of a common value, or a walk past rare ones, is what this avoids).
_WALK_ONLY = {"enable_bitmapscan": "off", "enable_seqscan": "off"}
_BITMAP_ONLY = {
    "enable_bitmapscan": "on",
    "enable_indexscan": "off",
    "enable_indexonlyscan": "off",
    "enable_seqscan": "off",
}


async def list_page(
    conn: asyncpg.Connection, account_id: int, where: WhereClause, after_id: int | None, limit: int
) -> list[ContactRecord]:
    """One page in id order after `after_id` (keyset): new rows never shift a page."""
    if not where.unsure_selectivity:
        return await _page(conn, where, after_id, None, limit)
    async with conn.transaction(readonly=True):
        walk_end: int | None = await conn.fetchval(
            f"SELECT id FROM contacts WHERE account_id = $1 AND id > $2 ORDER BY id "
            f"OFFSET {BOUNDED_WALK_ROWS - 1} LIMIT 1",
            account_id,
            after_id if after_id is not None else -(2**63),
        )
        await _set_local(conn, _WALK_ONLY)
        page = await _page(conn, where, after_id, walk_end, limit)
        if len(page) == limit or walk_end is None:
            return page
        await _set_local(conn, _BITMAP_ONLY)
        return page + await _page(conn, where, walk_end, None, limit - len(page), id_bound_indexed=False)


async def _page(
    conn: asyncpg.Connection,
    where: WhereClause,
    after_id: int | None,
    up_to_id: int | None,
    limit: int,
    id_bound_indexed: bool = True,
) -> list[ContactRecord]:
    params = list(where.params)
    condition = where.sql
    if after_id is not None:
        params.append(after_id)
        # `id + 0` for the bitmap of rare matches: a bitmap of the primary key's range
        # ANDed with it would cost a bit per contact after `after_id`.
        condition += f" AND id > ${len(params)}" if id_bound_indexed else f" AND id + 0 > ${len(params)}"
    if up_to_id is not None:
        params.append(up_to_id)
        condition += f" AND id <= ${len(params)}"
    params.append(limit)
    rows = await conn.fetch(
        f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE {condition} ORDER BY id LIMIT ${len(params)}",
        *params,
    )
    return [to_record(r) for r in rows]


async def count(conn: asyncpg.Connection, where: WhereClause) -> int:
    value: int = await conn.fetchval(f"SELECT count(*) FROM contacts WHERE {where.sql}", *where.params)
    return value


async def stream(conn: asyncpg.Connection, where: WhereClause) -> AsyncIterator[ContactRecord]:
    """Every matching contact in id order. The caller holds the connection in a
    REPEATABLE READ transaction (one snapshot); the cursor bounds memory."""
    query = f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE {where.sql} ORDER BY id"
    async for row in conn.cursor(query, *where.params, prefetch=STREAM_PREFETCH):
        yield to_record(row)


async def stream_json(conn: asyncpg.Connection, where: WhereClause) -> AsyncIterator[list[str]]:
    """As `stream`, each contact as the JSON text of its ContactRecord, in batches of
    `STREAM_PREFETCH` (one cursor round trip each)."""
    # Timestamps in UTC whatever the server's zone, as asyncpg gives them to `stream`;
    # SET LOCAL ends with the caller's transaction.
    await conn.execute("SET LOCAL TimeZone = 'UTC'")
    query = f"SELECT {CONTACT_JSON} FROM contacts WHERE {where.sql} ORDER BY id"
    cursor = await conn.cursor(query, *where.params)
    while rows := await cursor.fetch(STREAM_PREFETCH):
        yield [row[0] for row in rows]


# Settings of a CSV rendition's transaction (SET LOCAL). The rendition's expressions are
# many and cheap: compiling them (JIT) costs more than it saves even at a million rows,
# and parallel workers make the planner sort the selection instead of walking the
# primary key in id order (measured: a 300 MB external sort for the 1M account).
CSV_ROWS_SETTINGS = {"jit": "off", "max_parallel_workers_per_gather": "0"}
# COPY output is passed on in chunks of at least this size (PostgreSQL sends one message
# a row; asyncpg hands over what one socket read holds), and at most this many chunks
# wait for the reader: memory stays bounded when the client reads slowly.
CSV_CHUNK_BYTES = 256 * 1024
CSV_CHUNKS_AHEAD = 8


async def _set_local(conn: asyncpg.Connection, settings: dict[str, str]) -> None:
    """SET LOCAL of every setting, in one round trip (a lookup makes one per batch)."""
    await conn.execute(
        "SELECT set_config(name, value, true) FROM unnest($1::text[], $2::text[]) AS s(name, value)",
        list(settings),
        list(settings.values()),
    )


async def shown_cells_json(conn: asyncpg.Connection, query: ShownCellsQuery) -> str:
    """The JSON object of `query`: contact id → its cells as a sheet shows them."""
    async with conn.transaction(readonly=True):
        await _set_local(conn, {**CSV_ROWS_SETTINGS, **query.settings})
        text: str = await conn.fetchval(query.sql, *query.params)
    return text


async def stream_csv_rows(conn: asyncpg.Connection, query: CsvRowsQuery) -> AsyncGenerator[bytes, None]:
    """The rendition's rows as PostgreSQL's COPY ... (FORMAT csv) writes them: cells
    quoted as needed, a LF after each row, no header. The caller holds the connection in
    a transaction: SET LOCAL needs one, and the checked statement that takes over when
    the first one meets an invalid stored date (CsvRowsQuery) must see the same snapshot."""
    await _set_local(conn, {**CSV_ROWS_SETTINGS, **query.settings})
    if not query.casts_may_fail:
        async with contextlib.aclosing(_copy_csv(conn, query.sql, query)) as chunks:
            async for chunk in chunks:
                yield chunk
        return
    await conn.execute("SAVEPOINT csv_rows")
    sent = CsvRowsSent()
    try:
        async with contextlib.aclosing(_copy_csv(conn, query.sql, query)) as chunks:
            async for chunk in chunks:
                if rows := sent.complete_rows(chunk):
                    yield rows
    except asyncpg.DataError as error:
        log.info("CSV rows: %s after %d rows; the rest with every value checked", error, sent.rows)
        await conn.execute("ROLLBACK TO SAVEPOINT csv_rows")
        async with contextlib.aclosing(_copy_csv(conn, query.checked_sql(sent.rows), query)) as chunks:
            async for chunk in chunks:
                yield chunk
    else:
        if sent.held:  # COPY ends every row with a LF: never, but nothing is dropped
            yield sent.held
        # A connection renders part after part in one transaction (selection_reads).
        await conn.execute("RELEASE SAVEPOINT csv_rows")


async def csv_range_end(
    conn: asyncpg.Connection, query: CsvRowsQuery, rows_per_range: int, after: int | None
) -> int | None:
    """The id of the `rows_per_range`-th of the query's contacts after id `after` (from
    the first when None), None when fewer are left; in the caller's transaction."""
    end: int | None = await conn.fetchval(
        query.range_end_sql(rows_per_range, after), *query.params[: query.where_param_count]
    )
    return end


# What pg_export_snapshot() returns, e.g. 00000003-0000001B-1: checked, as SET
# TRANSACTION SNAPSHOT takes a literal only.
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")


async def export_snapshot(conn: asyncpg.Connection) -> str:
    """The id of the caller's transaction snapshot, for `use_snapshot` on another
    connection while this transaction stays open."""
    snapshot_id: str = await conn.fetchval("SELECT pg_export_snapshot()")
    return snapshot_id


async def use_snapshot(conn: asyncpg.Connection, snapshot_id: str) -> None:
    """Makes the caller's new REPEATABLE READ transaction see `snapshot_id`; it must be
    the transaction's first statement."""
    if _SNAPSHOT_ID.fullmatch(snapshot_id) is None:
        raise ValueError(f"not a snapshot id: {snapshot_id!r}")
    await conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot_id}'")


async def _copy_csv(conn: asyncpg.Connection, sql: str, query: CsvRowsQuery) -> AsyncGenerator[bytes, None]:
    """COPY (sql) TO STDOUT (FORMAT csv) as chunks of about CSV_CHUNK_BYTES."""
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue()  # unbounded: the end marker never waits
    room = asyncio.Semaphore(CSV_CHUNKS_AHEAD)
    pending = bytearray()

    async def hand_over(data: bytes) -> None:
        pending.extend(data)
        if len(pending) >= CSV_CHUNK_BYTES:
            await room.acquire()
            chunks.put_nowait(bytes(pending))
            pending.clear()

    async def copy() -> None:
        try:
            await conn.copy_from_query(sql, *query.params, output=hand_over, format="csv", delimiter=query.delimiter)
            if pending:
                chunks.put_nowait(bytes(pending))
        finally:
            chunks.put_nowait(None)

    copying = asyncio.create_task(copy())
    try:
        while (chunk := await chunks.get()) is not None:
            room.release()
            yield chunk
        await copying  # the statement's error, if it failed
    finally:
        if not copying.done():
            # The reader went away mid-COPY. asyncpg cannot use the connection again
            # before the server has sent every row, so it is closed: the server ends the
            # statement and the transaction, and the pool opens another connection.
            conn.terminate()
            copying.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await copying


async def email_owners(conn: asyncpg.Connection, account_id: int, emails: Sequence[str]) -> dict[str, list[int]]:
    """Lower-cased email → ids of the account's contacts holding it."""
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    if not wanted:
        return {}
    # One GIN probe per wanted email: with `emails && $2` for a batch of a thousand
    # emails the planner expects most of the table to match and scans all of it (11 s at
    # 1M contacts, against 0.2 s this way).
    rows = await conn.fetch(
        """
        SELECT wanted.email, array_agg(DISTINCT c.id ORDER BY c.id) AS ids
        FROM unnest($2::text[]) AS wanted(email)
        JOIN contacts AS c ON c.account_id = $1 AND lower_text_array(c.emails) @> ARRAY[wanted.email]
        GROUP BY wanted.email
        """,
        account_id,
        wanted,
    )
    return {r["email"]: list(r["ids"]) for r in rows}
