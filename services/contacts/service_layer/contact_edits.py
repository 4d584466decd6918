"""Creating and editing one contact through the public API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from services.contacts.adapters import accounts_store, contact_reads, contact_writes
from services.contacts.domain.bulk_plan import PlannedWrite
from services.contacts.domain.contact_state import apply_values, canonical_values, new_contact
from services.contacts.domain.custom_field_rules import FieldValueError, number_indexed_fields
from shared.contacts_api import ContactRecord, RowOutcome, RowOutcomeKind

__all__ = ["FieldValueError", "create_contact", "update_contact"]


async def create_contact(
    pool: asyncpg.Pool, account_id: int, values: Mapping[str, Any], requested_by: str
) -> ContactRecord:
    """Raises FieldValueError naming the field whose value is not acceptable."""
    async with pool.acquire() as conn, conn.transaction():
        rules, _ = await accounts_store.account_rules(conn, account_id)
        state, changes = new_contact(canonical_values(values, rules), rules)
        outcome = RowOutcome(row_number=0, outcome=RowOutcomeKind.CREATED)
        write = PlannedWrite(None, outcome, state, changes)
        await contact_writes.insert_contacts(conn, account_id, [write], number_indexed_fields(rules.custom_fields))
        assert write.contact_id is not None
        await contact_writes.log_changes(conn, account_id, [write], {}, contact_writes.Cause(requested_by))
        record = await contact_reads.get_contact(conn, account_id, write.contact_id)
    assert record is not None
    return record


async def update_contact(
    pool: asyncpg.Pool, account_id: int, contact_id: int, values: Mapping[str, Any], requested_by: str
) -> ContactRecord | None:
    """None when the account has no such contact; FieldValueError for a bad value."""
    async with pool.acquire() as conn, conn.transaction():
        rules, _ = await accounts_store.account_rules(conn, account_id)
        stored = await contact_writes.lock_contacts(conn, account_id, [contact_id])
        current = stored.get(contact_id)
        if current is None:
            return None
        state, changes = apply_values(current.state, canonical_values(values, rules), rules)
        if changes:
            outcome = RowOutcome(row_number=0, outcome=RowOutcomeKind.UPDATED)
            write = PlannedWrite(None, outcome, state, changes, contact_id)
            versions = await contact_writes.update_contacts(
                conn, account_id, [write], number_indexed_fields(rules.custom_fields)
            )
            await contact_writes.log_changes(
                conn,
                account_id,
                [write],
                {contact_id: versions[contact_id][0]},
                contact_writes.Cause(requested_by),
            )
        return await contact_reads.get_contact(conn, account_id, contact_id)
