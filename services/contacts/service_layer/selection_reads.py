"""Reading what a filter or selection holds: list pages, counts and snapshot streams."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg

from services.contacts.adapters import accounts_store, contact_reads
from services.contacts.domain.contact_filter import WhereClause, selection_where
from shared.contacts_api import ContactRecord
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
