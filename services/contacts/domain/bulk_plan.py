"""What a bulk-apply batch does to each row, decided from the locked current contacts.

Pure: the adapter locks and reads the contacts, this decides every outcome and the new
values, and the adapter writes them all with set-based statements.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.contacts.domain.contact_state import (
    AccountRules,
    ContactState,
    FieldChange,
    apply_values,
    canonical_values,
    new_contact,
)
from services.contacts.domain.custom_field_rules import FieldValueError
from shared.contacts_api import BulkApplyRequest, BulkApplyRow, RowAction, RowOutcome, RowOutcomeKind

NOT_FOUND = "contact not found"


@dataclass(frozen=True, slots=True)
class StoredContact:
    state: ContactState
    version: int
    updated_at: datetime


@dataclass(slots=True)
class PlannedWrite:
    """A contact to update (`contact_id` set) or create (`contact_id` given later)."""

    row_number: int | None
    outcome: RowOutcome
    state: ContactState
    changes: list[FieldChange]
    contact_id: int | None = None


@dataclass(slots=True)
class BulkPlan:
    outcomes: list[RowOutcome] = field(default_factory=list)
    updates: list[PlannedWrite] = field(default_factory=list)
    creates: list[PlannedWrite] = field(default_factory=list)


def plan_batch(request: BulkApplyRequest, stored: Mapping[int, StoredContact], rules: AccountRules) -> BulkPlan:
    """`stored` holds the batch's update ids that exist in the account (locked)."""
    plan = BulkPlan()
    written_keys = set(request.fields)
    seen_ids: set[int] = set()
    for row in request.rows:
        values = {k: v for k, v in row.values.items() if k in written_keys and k not in _READ_ONLY}
        if row.action is RowAction.CREATE:
            outcome = _plan_create(row, values, request.tag, rules, plan)
        else:
            outcome = _plan_update(row, values, request.tag, rules, stored, seen_ids, plan)
        plan.outcomes.append(outcome)
    return plan


_READ_ONLY = frozenset({"id", "created_at", "updated_at", "version", "custom_fields"})


def _plan_create(
    row: BulkApplyRow, values: dict[str, object], tag: str | None, rules: AccountRules, plan: BulkPlan
) -> RowOutcome:
    try:
        state, changes = new_contact(canonical_values(values, rules), rules, tag)
    except FieldValueError as error:
        return _failed(row, str(error))
    outcome = RowOutcome(
        row_number=row.row_number,
        outcome=RowOutcomeKind.CREATED,
        changed_fields=[c.field for c in changes],
    )
    plan.creates.append(PlannedWrite(row.row_number, outcome, state, changes))
    return outcome


def _plan_update(
    row: BulkApplyRow,
    values: dict[str, object],
    tag: str | None,
    rules: AccountRules,
    stored: Mapping[int, StoredContact],
    seen_ids: set[int],
    plan: BulkPlan,
) -> RowOutcome:
    contact_id = row.contact_id
    current = stored.get(contact_id) if contact_id is not None else None
    if contact_id is None or current is None:
        return _failed(row, NOT_FOUND)
    if contact_id in seen_ids:
        # Its first row is planned from the stored values: a second write would be lost.
        return _failed(row, f"contact {contact_id} is updated by an earlier row of the batch", contact_id)
    conflict = _conflict(row, current)
    if conflict is not None:
        return RowOutcome(
            row_number=row.row_number, outcome=RowOutcomeKind.CONFLICT, contact_id=contact_id, reason=conflict
        )
    try:
        state, changes = apply_values(current.state, canonical_values(values, rules), rules, tag)
    except FieldValueError as error:
        return _failed(row, str(error), contact_id)
    if not changes:
        return RowOutcome(row_number=row.row_number, outcome=RowOutcomeKind.UNCHANGED, contact_id=contact_id)
    outcome = RowOutcome(
        row_number=row.row_number,
        outcome=RowOutcomeKind.UPDATED,
        contact_id=contact_id,
        changed_fields=[c.field for c in changes],
    )
    plan.updates.append(PlannedWrite(row.row_number, outcome, state, changes, contact_id))
    seen_ids.add(contact_id)
    return outcome


def _conflict(row: BulkApplyRow, current: StoredContact) -> str | None:
    if row.expected_version is not None and row.expected_version != current.version:
        return f"contact changed: version {current.version}, expected {row.expected_version}"
    expected = row.expected_updated_at
    if expected is not None and _to_second(current.updated_at) > _to_second(expected):
        return f"contact changed at {current.updated_at.isoformat(timespec='seconds')}, after {expected.isoformat()}"
    return None


def _to_second(moment: datetime) -> int:
    # Spreadsheets show times to the second, so a sub-second difference is no conflict.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return math.floor(moment.timestamp())


def _failed(row: BulkApplyRow, reason: str, contact_id: int | None = None) -> RowOutcome:
    return RowOutcome(row_number=row.row_number, outcome=RowOutcomeKind.FAILED, contact_id=contact_id, reason=reason)
