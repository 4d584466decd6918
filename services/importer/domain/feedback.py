"""Validation feedback: what was found, where, and a message a user can act on.

A `FeedbackItem` holds data only (code and params); the text is made on demand by
`message()` in the reader's locale, so one stored item serves pt-BR and en readers.
The codes, their severities and their texts are listed in docs/feedback-codes.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from services.importer.domain.feedback_messages import MESSAGES, SEVERITY
from services.importer.domain.sheet import CellValue, FormulaWithoutValue, without_nul

VALUE_TEXT_LIMIT = 200


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    severity: Severity
    code: str
    row_number: int | None  # as the spreadsheet shows it; None for the file as a whole
    column: str | None = None  # letter (XLSX/XLS); None for CSV or no column
    header: str | None = None  # the column's header text as found
    field_key: str | None = None
    value: str | None = None  # the cell as found, as text, truncated
    params: Mapping[str, object] = field(default_factory=dict)

    def message(self, locale: str = "pt-BR") -> str:
        """The message with where it happened ("Linha 5, coluna C (E-mail): …")."""
        params = {"value": self.value or "", **self.params}
        return f"{location(self, locale)}{message(self.code, params, locale)}"


def feedback(
    code: str,
    row_number: int | None,
    *,
    column: str | None = None,
    header: str | None = None,
    field_key: str | None = None,
    cell: CellValue = None,
    params: Mapping[str, object] | None = None,
) -> FeedbackItem:
    """A feedback item with the severity its code has in the catalogue."""
    return FeedbackItem(
        severity=Severity(SEVERITY[code]),
        code=code,
        row_number=row_number,
        column=column,
        header=header,
        field_key=field_key,
        value=cell_as_text(cell),
        params=dict(params or {}),
    )


def message(code: str, params: Mapping[str, object], locale: str = "pt-BR") -> str:
    """The message for a code in pt-BR (default) or en; unknown locales read pt-BR."""
    texts = MESSAGES[code]
    template = texts["en"] if locale.lower().startswith("en") else texts["pt-BR"]
    if isinstance(template, dict):  # variants chosen by the `variant` param
        template = template[str(params.get("variant", "default"))]
    return template.format_map(_Params({k: _as_text(v, locale) for k, v in params.items()}))


class _Params(dict[str, str]):
    # A missing param shows as "?" rather than failing the whole feedback page.
    def __missing__(self, key: str) -> str:
        return "?"


def location(item: FeedbackItem, locale: str) -> str:
    en = locale.lower().startswith("en")
    parts: list[str] = []
    if item.row_number is not None:
        parts.append(f"{'Row' if en else 'Linha'} {item.row_number}")
    if item.column is not None or item.header is not None:
        where = item.column or ""
        if item.header is not None:
            where = f"{where} ({item.header})" if where else f'"{item.header}"'
        parts.append(f"{'column' if en else 'coluna'} {where}")
    return ", ".join(parts) + ": " if parts else ""


def cell_as_text(cell: CellValue) -> str | None:
    """A cell as the user would recognise it, cut to VALUE_TEXT_LIMIT characters (a NUL
    shown as "�": see `without_nul`)."""
    if cell is None:
        return None
    if isinstance(cell, FormulaWithoutValue):
        text = cell.formula
    elif isinstance(cell, bool):
        text = "TRUE" if cell else "FALSE"
    elif isinstance(cell, datetime | date | time):
        text = cell.isoformat()
    else:
        text = str(cell)
    text = without_nul(text)
    if len(text) > VALUE_TEXT_LIMIT:
        return text[: VALUE_TEXT_LIMIT - 1] + "…"
    return text


def _as_text(value: object, locale: str) -> str:
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
        shown = items[:20]
        more = len(items) - len(shown)
        text = ", ".join(shown)
        if more:
            text += f" (+{more} {'more' if locale.lower().startswith('en') else 'outros'})"
        return text
    return str(value)
