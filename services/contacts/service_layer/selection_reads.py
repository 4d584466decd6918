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
            first_end = None
            if query.splits_well:
                first_end = await contact_reads.csv_range_end(conn, query, CSV_ROWS_PER_PART, None)
            if first_end is not None:
                helper = await _spare_connection(pool)
            if helper is not None and not await _share_snapshot(conn, helper):
                await asyncio.shield(_put_back(pool, helper))
                helper = None
            if helper is None or first_end is None:
                rows = contact_reads.stream_csv_rows(conn, query)
            else:
                rows = _rendered_in_parts((conn, helper), _Parts(query, first_end))
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


class _Parts:
    """The selection cut into parts of CSV_ROWS_PER_PART contacts in id order, each part
    cut when it is taken: where a part ends is read off the index (~2 ms for 20,000
    contacts), where reading every end before the first row made the client wait
    (~0.25 s for a million). `buffers[i]` holds part i's chunks once it is taken."""

    def __init__(self, query: CsvRowsQuery, first_end: int) -> None:
        self._query = query
        self._after: int | None = None
        self._end: int | None = first_end
        self._cutting = asyncio.Lock()
        self.buffers: list[asyncio.Queue[bytes | None]] = []
        self.all_taken = False
        # Why the parts after those taken will never come: the reader raises it there.
        self.failure: Exception | None = None
        self.changed = asyncio.Event()

    async def take(self, conn: asyncpg.Connection) -> tuple[int, CsvRowsQuery] | None:
        """The next part and its index, None when every part is taken; finds where the
        part after it ends on `conn`."""
        async with self._cutting:
            if self.all_taken:
                return None
            part = self._query.within(self._after, self._end)
            try:
                if self._end is None:
                    self.all_taken = True
                else:
                    self._after = self._end
                    self._end = await contact_reads.csv_range_end(conn, self._query, CSV_ROWS_PER_PART, self._after)
            except Exception as error:
                self.failure = error
                self.all_taken = True
                self.changed.set()
                raise
            self.buffers.append(asyncio.Queue(CSV_PART_CHUNKS_AHEAD))
            self.changed.set()
            return len(self.buffers) - 1, part

    async def buffer(self, index: int) -> asyncio.Queue[bytes | None] | None:
        """Part `index`'s buffer once the part is taken; None after the last part, or
        what stopped the parts from being cut."""
        while index >= len(self.buffers) and not self.all_taken:
            self.changed.clear()
            await self.changed.wait()
        if index < len(self.buffers):
            return self.buffers[index]
        if self.failure is not None:
            raise self.failure
        return None


async def _rendered_in_parts(conns: Sequence[asyncpg.Connection], parts: _Parts) -> AsyncGenerator[bytes, None]:
    """The parts' rows, part after part: each connection renders the next part not yet
    taken into a buffer of its own while the reader reads the earliest one. At most
    `len(conns) + 1` parts are taken and not yet read, each buffer holds at most
    CSV_PART_CHUNKS_AHEAD chunks, so memory stays bounded whatever the reader's pace."""
    failures: dict[int, Exception] = {}
    room = asyncio.Semaphore(len(conns) + 1)

    async def render(conn: asyncpg.Connection) -> None:
        while True:
            await room.acquire()
            try:
                taken = await parts.take(conn)
            except Exception:
                return  # the reader meets the failure after the parts taken before
            if taken is None:
                return
            index, part = taken
            buffer = parts.buffers[index]
            try:
                async with contextlib.aclosing(contact_reads.stream_csv_rows(conn, part)) as rows:
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
        index = 0
        while (buffer := await parts.buffer(index)) is not None:
            while (chunk := await buffer.get()) is not None:
                yield chunk
            if index in failures:
                raise failures[index]
            room.release()
            index += 1
        await asyncio.gather(*renderers)
    finally:
        for renderer in renderers:
            renderer.cancel()
        # Shielded, so that the renderers have stopped (a COPY cut off closes its
        # connection) before the connections go back, even if this task is cancelled.
        await asyncio.shield(asyncio.gather(*renderers, return_exceptions=True))
