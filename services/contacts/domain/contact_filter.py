"""The contact filter and selection of CONTRACT.md as one SQL WHERE clause with
parameters: the one place that the list API, selection counts and selection streams read.

Pure: it returns text and values; the adapters run them. `$1` is always the account id,
so no condition can reach another account's rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.contacts.domain.custom_field_rules import (
    NUMBER_INDEXED_TYPES,
    CustomFieldDefinition,
    FieldValueError,
    canonical_custom_value,
    custom_field_numbers,
    is_empty,
)
from shared.fields import FieldType
from shared.selection import ContactFilter, Selection

_PHONE_LIKE = re.compile(r"^[\d\s()+.\-]+$")
# How many of an account's first ids the smallest id updated in a range is looked for in,
# before the (account_id, updated_at, id) index is read (`_add_date_range`).
_HEAD_ROWS = 1000
_BOOLEAN_WORDS = {"true": True, "sim": True, "1": True, "false": False, "nao": False, "não": False, "0": False}


@dataclass
class WhereClause:
    """Conditions joined with AND; `params[i]` is `$i+1`."""

    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    # An indexed condition on a custom field's value: PostgreSQL keeps no statistics per
    # jsonb key, so it may walk the id order expecting many matches that are not there
    # (contact_reads.list_page bounds that walk).
    unsure_selectivity: bool = False

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def add(self, condition: str) -> None:
        self.conditions.append(condition)

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions)


def selection_where(
    account_id: int,
    selection: Selection,
    custom_fields: Mapping[str, CustomFieldDefinition],
    timezone: str,
) -> WhereClause:
    where = WhereClause()
    where.add(f"account_id = {where.param(account_id)}")
    if selection.ids is not None:
        where.add(f"id = ANY({where.param(selection.ids)}::bigint[])")
    if selection.filter is not None:
        add_filter(where, selection.filter, custom_fields, timezone)
    if selection.exclude_ids:
        where.add(f"NOT (id = ANY({where.param(selection.exclude_ids)}::bigint[]))")
    return where


def filter_where(
    account_id: int,
    contact_filter: ContactFilter,
    custom_fields: Mapping[str, CustomFieldDefinition],
    timezone: str,
) -> WhereClause:
    return selection_where(account_id, Selection(filter=contact_filter), custom_fields, timezone)


def add_filter(
    where: WhereClause,
    contact_filter: ContactFilter,
    custom_fields: Mapping[str, CustomFieldDefinition],
    timezone: str,
) -> None:
    f = contact_filter
    for word in search_words(f.q):
        where.add(f"search_text LIKE '%' || fold_search_text({where.param(word)}) || '%'")
    if f.owner_ids is not None:
        where.add(_one_of("owner_id", f.owner_ids, "bigint", where))
    if f.lifecycle_stages is not None:
        where.add(_one_of("lifecycle_stage", f.lifecycle_stages, "text", where))
    if f.tags is not None:
        where.add(f"tags && {where.param(f.tags)}::text[]")
    if f.legal_entity is not None:
        where.add(f"legal_entity = {where.param(f.legal_entity)}")
    zone = ZoneInfo(timezone)
    for column, lower, upper in (
        ("created_at", f.created_from, f.created_to),
        ("updated_at", f.updated_from, f.updated_to),
    ):
        _add_date_range(
            where,
            column,
            None if lower is None else _instant_bound(lower, zone),
            None if upper is None else _instant_bound(upper, zone),
        )
    for key, value in (f.custom or {}).items():
        definition = custom_fields.get(key)
        if definition is None:
            raise FieldValueError(f"custom.{key}", "unknown custom field")
        _add_custom_condition(where, definition, value)


def _one_of(column: str, values: list[Any], sql_type: str, where: WhereClause) -> str:
    # One value is written `=`: PostgreSQL 15 walks (account_id, lifecycle_stage,
    # owner_id, id) in id order for equalities, not for `= ANY(array)`, and an ordered walk
    # is what makes a page of a combined filter cheap.
    if len(values) == 1:
        return f"{column} = {where.param(values[0])}::{sql_type}"
    return f"{column} = ANY({where.param(values)}::{sql_type}[])"


def _add_date_range(where: WhereClause, column: str, lower: datetime | None, upper: datetime | None) -> None:
    """`column` within the bounds and, when there is a lower bound, `id` at least the
    smallest id in range: implied by the range, so the rows are the same, but the page's
    walk of (account_id, id) in id order starts where the range does.

    Without it the planner expects the rows in range spread evenly along the ids. They
    are not: ids grow with creation time, so "created this month" is the account's last
    rows, and the walk read ~990k rows before the first match (0.3-1 s at 1M contacts).
    No row in range: the bound is NULL and no row matches, at once."""
    bounds = []
    if lower is not None:
        bounds.append((">=", where.param(lower)))
    if upper is not None:
        bounds.append(("<=", where.param(upper)))
    for operator, placeholder in bounds:
        where.add(f"{column} {operator} {placeholder}")
    if lower is None:
        return  # an upper bound alone matches the first ids: the walk finds them at once

    def in_range(alias: str) -> str:
        return " AND ".join(f"{alias}.{column} {operator} {placeholder}" for operator, placeholder in bounds)

    # `$1` is the account.
    if column == "created_at":
        # The GiST index on (account_id, id, created_at) returns the rows nearest to id 0
        # first (ids are positive: the smallest), skipping every subtree whose dates are
        # out of range. Exact whatever the order of ids and dates; a few pages whatever
        # the range as long as created_at mostly follows the ids.
        where.add(
            f"id >= (SELECT g.id FROM contacts AS g WHERE g.account_id = $1 AND {in_range('g')} "
            "ORDER BY g.id <-> 0::bigint LIMIT 1)"
        )
        return
    # Edits are spread over the ids, so a GiST index would skip few subtrees. The
    # smallest id in range is found among the account's first `_HEAD_ROWS` ids when many
    # rows match, else from the (account_id, updated_at, id) index alone, whose cost is
    # the number of rows in range (few, then). `min(id + 0)`, not `min(id)`: the planner
    # would answer min(id) by walking the primary key in id order, the very walk to avoid.
    where.add(
        "id >= (SELECT coalesce("
        f"(SELECT min(head.id) FROM (SELECT h.id, h.{column} FROM contacts AS h WHERE h.account_id = $1 "
        f"ORDER BY h.id LIMIT {_HEAD_ROWS}) AS head WHERE {in_range('head')}), "
        f"(SELECT min(r.id + 0) FROM contacts AS r WHERE r.account_id = $1 AND {in_range('r')})))"
    )


def search_words(q: str | None) -> list[str]:
    """`q` as LIKE patterns, one per word (every word must be found). A query that looks
    like a phone number is reduced to its digits, which the search text also holds."""
    if q is None or not q.strip():
        return []
    text = q.strip()
    if _PHONE_LIKE.match(text) and sum(c.isdigit() for c in text) >= 3:
        return [re.sub(r"\D", "", text)]
    return [_escape_like(word) for word in text.split()]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _instant_bound(moment: datetime, zone: ZoneInfo) -> datetime:
    """A date bound as a UTC instant; a bare date or time means the account's local time,
    as users read it. An instant outside years 1 to 9999 in UTC (e.g. 0001-01-01T00:00+05:00),
    which asyncpg cannot send, is clamped to the nearer end: before or after every
    created_at and updated_at, which the service sets to the time of the change."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    try:
        return aware.astimezone(UTC)
    except OverflowError:
        return (datetime.min if aware.year == 1 else datetime.max).replace(tzinfo=UTC)


def _add_custom_condition(where: WhereClause, definition: CustomFieldDefinition, value: Any) -> None:
    key = definition.key
    if is_empty(value):
        where.add(f"NOT custom_fields ? {where.param(key)}")
        return
    if definition.type is FieldType.BOOLEAN and isinstance(value, str):
        word = value.strip().lower()
        if word not in _BOOLEAN_WORDS:
            raise FieldValueError(f"custom.{key}", f"{value!r} is not true or false")
        value = _BOOLEAN_WORDS[word]
    try:
        canonical = canonical_custom_value(definition, value)
    except FieldValueError as error:
        raise FieldValueError(f"custom.{key}", error.message) from None
    if definition.type in NUMBER_INDEXED_TYPES:
        # Stored as typed ("10.50", any offset) but equal as numbers and instants: matched
        # in the numbers kept for them, where 10.5 contains 10.50 (migration 0006).
        numbers = custom_field_numbers({key: canonical}, {key: definition.type})
        where.add(f"custom_field_numbers @> {where.param(numbers)}::text::jsonb")
    else:
        # Containment uses the jsonb_path_ops index; for a multi-select a list value
        # matches a contact that holds every listed option.
        where.add(f"custom_fields @> {where.param({key: canonical})}::jsonb")
    where.unsure_selectivity = True
