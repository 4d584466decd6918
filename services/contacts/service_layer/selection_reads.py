"""Reading what a filter or selection holds: list pages, counts and snapshot streams."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

import asyncpg

from services.contacts.adapters import accounts_store, contact_reads
from services.contacts.domain.contact_filter import WhereClause, selection_where
from services.contacts.domain.csv_rendition import CsvRowsQuery, csv_rows_query, shown_cells_query
from shared.contacts_api import CellRendition, ContactRecord, SelectionCsvRequest
from shared.selection import ContactFilter, Selection


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
        return await contact_reads.list_page(conn, where, after_id, limit)


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
    """The rendition's CSV rows as COPY writes them, in id order, from one snapshot."""
    async with pool.acquire() as conn:
        transaction = conn.transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        try:
            # Closed here, not whenever it is collected: a reader that goes away must
            # stop the statement now (contact_reads closes a connection left mid-COPY).
            async with contextlib.aclosing(contact_reads.stream_csv_rows(conn, query)) as rows:
                async for chunk in rows:
                    yield chunk
        except BaseException:
            # InterfaceError: contact_reads closed the connection mid-COPY (the pool has it).
            with contextlib.suppress(asyncpg.InterfaceError):
                if not conn.is_closed():
                    await transaction.rollback()
            raise
        await transaction.commit()
