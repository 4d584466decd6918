"""A contact's writable values, how a change to them is validated, and what it changes.

One code path serves the public PATCH/POST and the importer's bulk apply, so a value
that one accepts the other accepts too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Any

from services.contacts.domain.custom_field_rules import (
    CustomFieldDefinition,
    FieldValueError,
    canonical_custom_value,
    is_empty,
)
from shared.bounds import NUL, NUL_MESSAGE

# Standard field keys as in shared.fields; `owner` is stored as the user's id.
STANDARD_WRITABLE_KEYS: tuple[str, ...] = (
    "name",
    "emails",
    "phones",
    "company",
    "job_title",
    "lifecycle_stage",
    "owner",
    "legal_entity",
    "tags",
)
_LIST_KEYS = frozenset({"emails", "phones", "tags"})
_OPTIONAL_TEXT_KEYS = frozenset({"company", "job_title"})
_MAX_TEXT = 10_000
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+$")


@dataclass(frozen=True, slots=True)
class AccountRules:
    """What an account's values are checked against."""

    stage_keys: frozenset[str]
    owner_ids: frozenset[int]
    custom_fields: Mapping[str, CustomFieldDefinition]

    def required_custom_keys(self) -> list[str]:
        return [k for k, d in self.custom_fields.items() if d.required]


@dataclass(frozen=True, slots=True)
class ContactState:
    name: str
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    company: str | None = None
    job_title: str | None = None
    lifecycle_stage: str | None = None
    owner: int | None = None
    legal_entity: bool | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)

    def value_of(self, key: str) -> Any:
        if key in STANDARD_WRITABLE_KEYS:
            return getattr(self, key)
        return self.custom_fields.get(key)


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old_value: Any
    new_value: Any


def canonical_values(values: Mapping[str, Any], rules: AccountRules) -> dict[str, Any]:
    """Each given value in canonical form (None for an emptied optional field).

    Raises FieldValueError naming the first field whose value is not acceptable."""
    canonical: dict[str, Any] = {}
    for key, raw in values.items():
        if key in STANDARD_WRITABLE_KEYS:
            canonical[key] = _canonical_standard(key, raw, rules)
        elif key in rules.custom_fields:
            canonical[key] = canonical_custom_value(rules.custom_fields[key], raw)
        else:
            raise FieldValueError(key, "unknown field")
    return canonical


def new_contact(
    values: Mapping[str, Any], rules: AccountRules, tag: str | None = None
) -> tuple[ContactState, list[FieldChange]]:
    """A contact made of canonical `values`, and its values as changes from nothing.
    Raises FieldValueError when a required value is missing."""
    return apply_values(ContactState(name=""), values, rules, tag, creating=True)


def apply_values(
    current: ContactState,
    values: Mapping[str, Any],
    rules: AccountRules,
    tag: str | None = None,
    *,
    creating: bool = False,
) -> tuple[ContactState, list[FieldChange]]:
    """The contact after writing canonical `values` (and adding `tag`, only if something
    else changes), with the changes in field order. Raises FieldValueError when a required
    field would be empty: on create, or when this write empties it (a contact stored before
    its field became required is not blocked from other updates)."""
    standard = {k: v for k, v in values.items() if k in STANDARD_WRITABLE_KEYS}
    for key, value in standard.items():
        if key in _LIST_KEYS and value is None:
            standard[key] = []
    custom = dict(current.custom_fields)
    for key, value in values.items():
        if key in STANDARD_WRITABLE_KEYS:
            continue
        if value is None:
            custom.pop(key, None)
        else:
            custom[key] = value
    updated = replace(current, **standard, custom_fields=custom)
    if not updated.name:
        raise FieldValueError("name", "is required")
    for key in rules.required_custom_keys():
        if key not in custom and (creating or key in values):
            raise FieldValueError(key, "is required")
    # Only the given fields can differ (and tags, by the tag): the diff looks at those
    # alone, in field order. A bulk apply plans thousands of rows of one or two fields.
    given = set(values)
    changes = diff(current, updated, rules.custom_fields, only=given)
    if changes and tag and tag not in updated.tags:
        updated = replace(updated, tags=[*updated.tags, tag])
        changes = diff(current, updated, rules.custom_fields, only=given | {"tags"})
    return updated, changes


def diff(
    before: ContactState, after: ContactState, custom_keys: Iterable[str], only: AbstractSet[str] | None = None
) -> list[FieldChange]:
    """The fields whose value differs, standard fields first, then custom in definition
    order (then any stored custom key no longer defined); among `only` when given."""
    keys = list(STANDARD_WRITABLE_KEYS) + list(custom_keys)
    extra = sorted((set(before.custom_fields) | set(after.custom_fields)) - set(keys))
    ordered = keys + extra
    if only is not None:
        ordered = [key for key in ordered if key in only]
    changes = []
    for key in ordered:
        old, new = before.value_of(key), after.value_of(key)
        if old != new or type(old) is not type(new):
            changes.append(FieldChange(key, old, new))
    return changes


def _canonical_standard(key: str, raw: Any, rules: AccountRules) -> Any:
    if key == "name":
        if not isinstance(raw, str) or not raw.strip():
            raise FieldValueError("name", "is required")
        return _text(key, raw)
    if key in _OPTIONAL_TEXT_KEYS:
        return None if is_empty(raw) else _text(key, raw)
    if key in _LIST_KEYS:
        return _list(key, raw)
    if key == "lifecycle_stage":
        if is_empty(raw):
            return None
        if raw not in rules.stage_keys:
            raise FieldValueError(key, f"{raw!r} is not a lifecycle stage of the account")
        return raw
    if key == "owner":
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int) or raw not in rules.owner_ids:
            raise FieldValueError(key, f"{raw!r} is not a user of the account")
        return raw
    if key == "legal_entity":
        if raw is not None and not isinstance(raw, bool):
            raise FieldValueError(key, f"{raw!r} is not true or false")
        return raw
    raise FieldValueError(key, "unknown field")


def _text(key: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise FieldValueError(key, f"{raw!r} is not text")
    if len(raw) > _MAX_TEXT:
        raise FieldValueError(key, f"longer than {_MAX_TEXT} characters")
    if NUL in raw:
        raise FieldValueError(key, NUL_MESSAGE)
    return raw


def _list(key: str, raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise FieldValueError(key, f"{raw!r} is not a list of text")
    items: list[str] = []
    for value in raw:
        value = value.strip()
        if not value:
            continue
        # The sheet joins list items with ", " (shared.fields.MULTI_VALUE_SEPARATOR).
        if NUL in value:
            raise FieldValueError(key, f"{value!r} {NUL_MESSAGE}")
        if "," in value or ";" in value or "\n" in value:
            raise FieldValueError(key, f"{value!r}: an item has no comma, semicolon or line break")
        if key == "emails" and not _EMAIL.match(value):
            raise FieldValueError(key, f"{value!r} is not an email address")
        if value not in items:
            items.append(value)
    return items
