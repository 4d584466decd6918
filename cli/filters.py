"""The contact filter of CONTRACT.md as the user types it on the command line, turned
into the list API's query and into the export's selection: one source, so what the
user saw in `contacts list` is what `export` selects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cli.exit_codes import UsageProblem

_BR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class FilterOptions:
    q: str | None = None
    owner_ids: list[int] = field(default_factory=list)
    lifecycle_stages: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    legal_entity: bool | None = None
    created_from: str | None = None
    created_to: str | None = None
    updated_from: str | None = None
    updated_to: str | None = None
    custom: dict[str, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not contact_filter(self)


def split_values(values: list[str] | None) -> list[str]:
    """`--tag a --tag b` and `--tag a,b` both work."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def parse_ids(values: list[str] | None, option: str) -> list[int]:
    ids = []
    for part in split_values(values):
        if not part.isdigit():
            raise UsageProblem("not_an_id", option=option, value=part)
        ids.append(int(part))
    return ids


def parse_custom(values: list[str] | None) -> dict[str, str]:
    """`--custom segmento=Varejo`; an empty value (`vip=`) selects contacts without it."""
    custom = {}
    for value in values or []:
        key, sep, wanted = value.partition("=")
        if not sep or not key.strip():
            raise UsageProblem("bad_key_value", option="--custom", value=value)
        custom[key.strip()] = wanted.strip()
    return custom


def parse_moment(value: str | None, option: str, end_of_day: bool = False) -> str | None:
    """A date as a Brazilian types it (`31/01/2026`) or ISO (`2026-01-31`, with or without
    a time) → ISO 8601. A bare date in a `--…-to` option includes that whole day."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    found = _BR_DATE.match(text)
    try:
        if found:
            day, month, year = (int(g) for g in found.groups())
            bare: date | None = date(year, month, day)
        elif len(text) == 10:
            bare = date.fromisoformat(text)
        else:
            return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise UsageProblem("bad_date", option=option, value=value) from None
    time_part = "23:59:59.999999" if end_of_day else "00:00:00"
    return f"{bare.isoformat()}T{time_part}"


def contact_filter(options: FilterOptions) -> dict[str, Any]:
    """The filter object of the selection (only the conditions given)."""
    given: dict[str, Any] = {
        "q": options.q.strip() if options.q and options.q.strip() else None,
        "owner_ids": options.owner_ids or None,
        "lifecycle_stages": options.lifecycle_stages or None,
        "tags": options.tags or None,
        "legal_entity": options.legal_entity,
        "created_from": options.created_from,
        "created_to": options.created_to,
        "updated_from": options.updated_from,
        "updated_to": options.updated_to,
        "custom": options.custom or None,
    }
    return {name: value for name, value in given.items() if value is not None}


def list_query(options: FilterOptions) -> list[tuple[str, str]]:
    """The list API's query parameters: lists comma-joined, `custom.<key>=value`."""
    query: list[tuple[str, str]] = []
    for name, value in contact_filter(options).items():
        if name == "custom":
            query.extend((f"custom.{key}", wanted) for key, wanted in value.items())
        elif isinstance(value, list):
            query.append((name, ",".join(str(v) for v in value)))
        elif isinstance(value, bool):
            query.append((name, "true" if value else "false"))
        else:
            query.append((name, str(value)))
    return query


def selection(
    options: FilterOptions, ids: list[int], select_all: bool, exclude_ids: list[int]
) -> dict[str, Any]:
    """Exactly one of ids, filter or all, as the contract wants; refuses ambiguous input
    rather than guessing which contacts the user meant."""
    conditions = contact_filter(options)
    chosen = [name for name, given in (("--ids", bool(ids)), ("--all", select_all), ("filter", bool(conditions)))
              if given]
    if not chosen:
        raise UsageProblem("selection_missing")
    if len(chosen) > 1:
        raise UsageProblem("selection_ambiguous", given=", ".join(chosen))
    if ids:
        if exclude_ids:
            raise UsageProblem("exclude_with_ids")
        return {"ids": ids}
    picked: dict[str, Any] = {"all": True} if select_all else {"filter": conditions}
    if exclude_ids:
        picked["exclude_ids"] = exclude_ids
    return picked
