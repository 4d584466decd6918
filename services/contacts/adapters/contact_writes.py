"""Writing contacts set-based: lock, update, insert and log many rows with one statement
each, whatever the batch size (each takes the whole batch as one jsonb parameter)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.contacts.adapters.contact_reads import to_state
from services.contacts.domain.bulk_plan import PlannedWrite, StoredContact
from services.contacts.domain.contact_state import ContactState
from services.contacts.domain.custom_field_rules import custom_field_numbers
from shared.fields import FieldType

_STATE_COLUMNS = """name text, emails text[], phones text[], company text, job_title text,
    lifecycle_stage text, owner_id bigint, legal_entity boolean, tags text[], custom_fields jsonb,
    custom_field_numbers text"""


@dataclass(frozen=True, slots=True)
class Cause:
    """What made a change, as the change log keeps it."""

    requested_by: str | None
    import_id: str | None = None


async def lock_contacts(conn: asyncpg.Connection, account_id: int, ids: Sequence[int]) -> dict[int, StoredContact]:
    """Locks the account's contacts among `ids`, in id order (so that concurrent batches
    never deadlock), and returns their current values. Ids of other accounts are absent."""
    if not ids:
        return {}
    rows = await conn.fetch(
        "SELECT id, name, emails, phones, company, job_title, lifecycle_stage, owner_id, legal_entity, "
        "tags, custom_fields, version, updated_at FROM contacts "
        "WHERE account_id = $1 AND id = ANY($2::bigint[]) ORDER BY id FOR UPDATE",
        account_id,
        sorted(set(ids)),
    )
    return {r["id"]: StoredContact(to_state(r), r["version"], r["updated_at"]) for r in rows}


def _state_json(state: ContactState, number_fields: Mapping[str, FieldType]) -> dict[str, Any]:
    return {
        "name": state.name,
        "emails": state.emails,
        "phones": state.phones,
        "company": state.company,
        "job_title": state.job_title,
        "lifecycle_stage": state.lifecycle_stage,
        "owner_id": state.owner,
        "legal_entity": state.legal_entity,
        "tags": state.tags,
        "custom_fields": state.custom_fields,
        "custom_field_numbers": custom_field_numbers(state.custom_fields, number_fields),
    }


async def update_contacts(
    conn: asyncpg.Connection,
    account_id: int,
    updates: Sequence[PlannedWrite],
    number_fields: Mapping[str, FieldType],
) -> dict[int, tuple[int, datetime]]:
    """Writes the new values of locked contacts; returns id → (version, updated_at).
    `number_fields`: the account's `number_indexed_fields`."""
    if not updates:
        return {}
    payload = [{"id": u.contact_id, **_state_json(u.state, number_fields)} for u in updates]
    rows = await conn.fetch(
        f"""
        UPDATE contacts AS c SET
            name = u.name, emails = u.emails, phones = u.phones, company = u.company,
            job_title = u.job_title, lifecycle_stage = u.lifecycle_stage, owner_id = u.owner_id,
            legal_entity = u.legal_entity, tags = u.tags, custom_fields = u.custom_fields,
            custom_field_numbers = u.custom_field_numbers::jsonb,
            updated_at = now(), version = c.version + 1
        FROM jsonb_to_recordset($2::jsonb) AS u(id bigint, {_STATE_COLUMNS})
        WHERE c.account_id = $1 AND c.id = u.id
        RETURNING c.id, c.version, c.updated_at
        """,
        account_id,
        payload,
    )
    return {r["id"]: (r["version"], r["updated_at"]) for r in rows}


async def insert_contacts(
    conn: asyncpg.Connection,
    account_id: int,
    creates: Sequence[PlannedWrite],
    number_fields: Mapping[str, FieldType],
) -> None:
    """Inserts new contacts, giving each `PlannedWrite` its id from the global sequence.
    `number_fields`: the account's `number_indexed_fields`."""
    if not creates:
        return
    ids = await conn.fetch("SELECT nextval('contact_ids') AS id FROM generate_series(1, $1)", len(creates))
    for write, row in zip(creates, ids, strict=True):
        write.contact_id = row["id"]
    payload = [{"id": c.contact_id, **_state_json(c.state, number_fields)} for c in creates]
    await conn.execute(
        f"""
        INSERT INTO contacts (id, account_id, name, emails, phones, company, job_title,
                              lifecycle_stage, owner_id, legal_entity, tags, custom_fields,
                              custom_field_numbers)
        SELECT u.id, $1, u.name, coalesce(u.emails, '{{}}'), coalesce(u.phones, '{{}}'), u.company,
               u.job_title, u.lifecycle_stage, u.owner_id, u.legal_entity,
               coalesce(u.tags, '{{}}'), coalesce(u.custom_fields, '{{}}'), u.custom_field_numbers::jsonb
        FROM jsonb_to_recordset($2::jsonb) AS u(id bigint, {_STATE_COLUMNS})
        """,
        account_id,
        payload,
    )


async def log_changes(
    conn: asyncpg.Connection,
    account_id: int,
    writes: Sequence[PlannedWrite],
    versions: dict[int, int],
    cause: Cause,
) -> None:
    """One change-log row per changed field of every write, in one statement."""
    payload = [
        {
            "contact_id": w.contact_id,
            "field": change.field,
            "old_value": change.old_value,
            "new_value": change.new_value,
            "row_number": w.row_number,
            "version": versions.get(w.contact_id or 0, 1),
        }
        for w in writes
        for change in w.changes
    ]
    if not payload:
        return
    await conn.execute(
        """
        INSERT INTO contact_changes (contact_id, account_id, field, old_value, new_value,
                                     cause, import_id, row_number, version)
        SELECT l.contact_id, $1, l.field, l.old_value, l.new_value, $2, $3, l.row_number, l.version
        FROM jsonb_to_recordset($4::jsonb)
             AS l(contact_id bigint, field text, old_value jsonb, new_value jsonb,
                  row_number integer, version integer)
        """,
        account_id,
        cause.requested_by,
        cause.import_id,
        payload,
    )
