"""Reading what a filter or selection holds: list pages, counts and snapshot streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

import asyncpg

from services.contacts.adapters import accounts_store, contact_reads
from services.contacts.domain.contact_filter import WhereClause, selection_where
from services.contacts.domain.csv_rendition import CsvRowsQuery, csv_rows_query, shown_cells_query
from shared.contacts_api import CellRendition, ContactRecord, SelectionCsvRequest
from shared.selection import ContactFilter, Selection

log = logging.getLogger(__name__)

# A CSV selection of at least two parts of this many contacts is rendered by two
# connections at once (`stream_csv_rows`); ~6 MB of the bench account's rows a part.
CSV_ROWS_PER_PART = 20_000
# Chunks (~256 KiB, contact_reads.CSV_CHUNK_BYTES) rendered ahead of the reader per part.
CSV_PART_CHUNKS_AHEAD = 32
SPARE_CONNECTION_WAIT_S = 0.2


async def where_for(conn: asyncpg.Connection, account_id: int, selection: Selection) -> WhereClause:
    """The selection's WHERE clause; UnknownAccountError, or FieldValueError for a filter
    on a custom field the account does not have (or a value of the wrong type)."""
    rules, timezone = await accounts_store.account_rules(conn, account_id)
    return selection_where(account_id, selection, rules.custom_fields, timezone)


async def list_page(
    pool: asyncpg.Pool, account_id: int, contact_filter: ContactFilter, after_id: int | None, limit: int
) -> list[ContactRecord]:
    async with pool.acquire() as conn:
        where = await where_for(conn, account_id, Selection(filter=contact_filter))
        return await contact_reads.list_page(conn, account_id, where, after_id, limit)


async def count_selection(pool: asyncpg.Pool, account_id: int, selection: Selection) -> int:
    async with pool.acquire() as conn:
        where = await where_for(conn, account_id, selection)
        return await contact_reads.count(conn, where)


async def stream_selection(pool: asyncpg.Pool, where: WhereClause) -> AsyncIterator[ContactRecord]:
    """Every contact of the selection in id order, from one snapshot: contacts changed or
    created while the stream runs are seen as they were when it started."""
    async with (
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        async for record in contact_reads.stream(conn, where):
            yield record


async def stream_selection_json(pool: asyncpg.Pool, where: WhereClause) -> AsyncIterator[list[str]]:
    """As `stream_selection`, each contact as the JSON text of its ContactRecord, in
    batches (the selection stream endpoint writes them as they are)."""
    async with (
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        async for lines in contact_reads.stream_json(conn, where):
            yield lines


async def csv_rows_for(conn: asyncpg.Connection, account_id: int, plan: SelectionCsvRequest) -> CsvRowsQuery:
    """The statement that renders the plan's CSV rows; UnknownAccountError, FieldValueError
    for a bad filter (as `where_for`), CsvPlanError for columns the account cannot show."""
    rules, timezone = await accounts_store.account_rules(conn, account_id)
    where = selection_where(account_id, plan.selection, rules.custom_fields, timezone)
    return csv_rows_query(plan, where, rules.custom_fields)


async def shown_cells_json(
    conn: asyncpg.Connection, account_id: int, ids: Sequence[int], rendition: CellRendition
) -> str:
    """Contact id → cells as a sheet by `rendition` shows them (ContactLookup.cells), for
    the account's contacts among `ids`, as JSON text; CsvPlanError for columns the
    account cannot show."""
    if not ids:
        return "{}"
    rules, _ = await accounts_store.account_rules(conn, account_id)
    query = shown_cells_query(rendition, account_id, ids, rules.custom_fields)
    return await contact_reads.shown_cells_json(conn, query)


async def stream_csv_rows(pool: asyncpg.Pool, query: CsvRowsQuery) -> AsyncGenerator[bytes, None]:
    """The rendition's CSV rows as COPY writes them, in id order, from one snapshot.

    PostgreSQL formats a row in ~6.6 µs of one core, which bounds the export: a whole
    account's selection (`CsvRowsQuery.splits_well`) of two parts or more
    (CSV_ROWS_PER_PART contacts each) is rendered by two connections
    that share the snapshot, a part each at a time, while the reader reads the parts in
    order (`_rendered_in_parts`). With no second connection free within a moment, one
    connection renders it all."""
    async with pool.acquire() as conn:
        transaction = conn.transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        helper: asyncpg.Connection | None = None
        try:
            ends = await contact_reads.csv_range_ends(conn, query, CSV_ROWS_PER_PART) if query.splits_well else []
            if ends:
                helper = await _spare_connection(pool)
            if helper is not None and not await _share_snapshot(conn, helper):
                await asyncio.shield(_put_back(pool, helper))
                helper = None
            if helper is None:
                rows = contact_reads.stream_csv_rows(conn, query)
            else:
                starts: list[int | None] = [None, *ends]
                parts = [query.within(after, up_to) for after, up_to in zip(starts, [*ends, None], strict=True)]
                rows = _rendered_in_parts((conn, helper), parts)
            # Closed here, not whenever it is collected: a reader that goes away must
            # stop the statements now (contact_reads closes a connection left mid-COPY).
            async with contextlib.aclosing(rows) as chunks:
                async for chunk in chunks:
                    yield chunk
        except BaseException:
            # InterfaceError: contact_reads closed the connection mid-COPY (the pool has it).
            with contextlib.suppress(asyncpg.InterfaceError):
                if not conn.is_closed():
                    await transaction.rollback()
            raise
        finally:
            if helper is not None:
                # Shielded: a client that goes away cancels this task at every await
                # (anyio), and the helper must still go back to the pool.
                await asyncio.shield(_put_back(pool, helper))
        await transaction.commit()


async def _spare_connection(pool: asyncpg.Pool) -> asyncpg.Connection | None:
    """A second connection if one is free now or within a moment; never waits long, so
    that streams holding one connection each cannot wait for one another."""
    try:
        return await pool.acquire(timeout=SPARE_CONNECTION_WAIT_S)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        if not isinstance(error, TimeoutError):
            log.warning("CSV rows: no second connection (%r); one renders the selection", error)
        return None


async def _share_snapshot(conn: asyncpg.Connection, helper: asyncpg.Connection) -> bool:
    """Opens a transaction on `helper` that sees what `conn`'s transaction sees; False
    (the helper is of no use) when the helper fails to."""
    snapshot_id = await contact_reads.export_snapshot(conn)
    try:
        await helper.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        await contact_reads.use_snapshot(helper, snapshot_id)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        log.warning("CSV rows: the second connection could not share the snapshot (%r)", error)
        return False
    return True


async def _put_back(pool: asyncpg.Pool, helper: asyncpg.Connection) -> None:
    """Ends the helper's read-only transaction (a rollback: it wrote nothing) and gives
    it back; a connection closed mid-COPY goes back closed, and the pool replaces it."""
    try:
        with contextlib.suppress(asyncpg.InterfaceError, asyncpg.PostgresError, OSError):
            if not helper.is_closed() and helper.is_in_transaction():
                await helper.execute("ROLLBACK")
    finally:
        await pool.release(helper)


async def _rendered_in_parts(
    conns: Sequence[asyncpg.Connection], parts: Sequence[CsvRowsQuery]
) -> AsyncGenerator[bytes, None]:
    """The parts' rows, part after part: each connection renders the next part not yet
    taken into a buffer of its own while the reader reads the earliest one. At most
    `len(conns) + 1` parts are taken and not yet read, each buffer holds at most
    CSV_PART_CHUNKS_AHEAD chunks, so memory stays bounded whatever the reader's pace."""
    buffers: list[asyncio.Queue[bytes | None]] = [asyncio.Queue(CSV_PART_CHUNKS_AHEAD) for _ in parts]
    failures: dict[int, Exception] = {}
    untaken = iter(range(len(parts)))
    room = asyncio.Semaphore(len(conns) + 1)

    async def render(conn: asyncpg.Connection) -> None:
        while True:
            await room.acquire()
            index = next(untaken, None)
            if index is None:
                return
            buffer = buffers[index]
            try:
                async with contextlib.aclosing(contact_reads.stream_csv_rows(conn, parts[index])) as rows:
                    async for chunk in rows:
                        await buffer.put(chunk)
            except Exception as error:
                # The reader meets it in this part's turn (the stream breaks off there);
                # this connection is of no use any more, the other one goes on.
                failures[index] = error
                await buffer.put(None)
                return
            await buffer.put(None)

    renderers = [asyncio.create_task(render(conn)) for conn in conns]
    try:
        for index, buffer in enumerate(buffers):
            while (chunk := await buffer.get()) is not None:
                yield chunk
            if index in failures:
                raise failures[index]
            room.release()
        await asyncio.gather(*renderers)
    finally:
        for renderer in renderers:
            renderer.cancel()
        # Shielded, so that the renderers have stopped (a COPY cut off closes its
        # connection) before the connections go back, even if this task is cancelled.
        await asyncio.shield(asyncio.gather(*renderers, return_exceptions=True))
