"""Step 7's "confirm which fields to import", on the command line: start from the mapping
the importer suggests, then apply the user's `--fields`, `--drop COL` and `--map COL=field`.
A column is named as the user sees it: its header, its letter, or its number."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from cli.exit_codes import UsageProblem
from cli.tables import column_letter

# Never written, but the importer needs them to key rows and detect conflicts.
KEY_FIELDS = ("id", "updated_at")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def column_index(columns: Sequence[Mapping[str, Any]], reference: str, option: str) -> int:
    """The header wins over the letter, so a column headed "ID" is never read as the
    238th column, whose letters are also I and D."""
    wanted = _folded(reference)
    for column in columns:
        if _folded(str(column["header"])) == wanted:
            return int(column["index"])
    for column in columns:
        if (column.get("letter") or column_letter(column["index"])).casefold() == wanted:
            return int(column["index"])
    if wanted.isdigit() and 1 <= int(wanted) <= len(columns):
        return int(wanted) - 1
    raise UsageProblem("unknown_column", option=option, column=reference)


def choose_columns(
    columns: Sequence[Mapping[str, Any]],
    only_fields: Sequence[str] = (),
    drops: Sequence[str] = (),
    maps: Sequence[str] = (),
) -> dict[int, str]:
    """Column index → field key to import."""
    chosen = {int(c["index"]): str(c["suggested_field"]) for c in columns if c.get("suggested_field")}
    if only_fields:
        present = set(chosen.values())
        for field in only_fields:
            if field not in present:
                raise UsageProblem("unknown_field_option", field=field)
        kept = set(only_fields) | set(KEY_FIELDS)
        chosen = {index: field for index, field in chosen.items() if field in kept}
    for reference in drops:
        chosen.pop(column_index(columns, reference, "--drop"), None)
    for assignment in maps:
        reference, sep, field = assignment.rpartition("=")
        if not sep or not reference.strip() or not field.strip():
            raise UsageProblem("bad_key_value", option="--map", value=assignment)
        index = column_index(columns, reference, "--map")
        # The user's explicit choice wins over a suggestion of the same field elsewhere.
        chosen = {i: f for i, f in chosen.items() if f != field.strip()}
        chosen[index] = field.strip()
    if not set(chosen.values()) - set(KEY_FIELDS):
        raise UsageProblem("nothing_to_import")
    return dict(sorted(chosen.items()))
