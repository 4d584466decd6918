"""The listings as rich tables: pure functions of the API's JSON and the language, so the
rendering can be tested without a service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.markup import escape
from rich.table import Table

from cli.messages import Messages

MAX_CELL = 40


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: as spreadsheet programs name columns."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def cell(value: Any, t: Messages) -> str:
    """One value as a spreadsheet would show it, on one line and escaped for rich."""
    if value is None or value == [] or value == "":
        return ""
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = " ⏎ ".join(str(value).splitlines())
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return escape(text)


def moment(value: str | None, t: Messages) -> str:
    if not value:
        return ""
    shown = datetime.fromisoformat(value).astimezone()
    return shown.strftime("%Y-%m-%d %H:%M") if t.lang == "en" else shown.strftime("%d/%m/%Y %H:%M")


def contacts_table(
    items: Sequence[Mapping[str, Any]], owners: Mapping[int, str], stages: Mapping[str, str], t: Messages
) -> Table:
    """Owners and stages by the names the user knows, not their ids and keys."""
    table = Table(title=t("contacts_title", count=len(items)))
    for key in ("col_id", "col_name", "col_email", "col_phone", "col_company", "col_stage", "col_owner",
                "col_legal", "col_tags"):
        table.add_column(t(key), no_wrap=key in ("col_id", "col_name"), justify="right" if key == "col_id" else "left")
    for c in items:
        owner = owners.get(c.get("owner_id") or -1, c.get("owner_id"))
        table.add_row(
            str(c["id"]), cell(c.get("name"), t), cell(c.get("emails"), t), cell(c.get("phones"), t),
            cell(c.get("company"), t), cell(stages.get(c.get("lifecycle_stage") or "", c.get("lifecycle_stage")), t),
            cell(owner, t),
            cell(c.get("legal_entity"), t), cell(c.get("tags"), t),
        )
    return table


def state_label(state: str, t: Messages) -> str:
    colour = {"ready": "green", "completed": "green", "failed": "red", "completed_with_errors": "yellow",
              "validated": "cyan"}.get(state, "")
    text = t(f"state_{state}") if t.has(f"state_{state}") else state
    return f"[{colour}]{text}[/{colour}]" if colour else text


def exports_table(items: Sequence[Mapping[str, Any]], t: Messages) -> Table:
    table = Table(title=t("exports_title"))
    for key in ("col_export_id", "col_requested_at", "col_state", "col_format", "col_rows", "col_file"):
        table.add_column(t(key), min_width=36 if key == "col_export_id" else None)
    for e in items:
        table.add_row(
            str(e["export_id"]), moment(e.get("requested_at"), t), state_label(e["state"], t),
            str(e.get("format", "")).upper(), cell(e.get("row_count"), t),
            cell(e.get("file_name") or e.get("error_message"), t),
        )
    return table


def imports_table(items: Sequence[Mapping[str, Any]], t: Messages) -> Table:
    table = Table(title=t("imports_title"))
    for key in ("col_import_id", "col_created_at", "col_state", "col_file", "col_rows", "col_errors",
                "col_warnings", "col_tag"):
        # The id is what the user copies into the next command: never cut it.
        table.add_column(t(key), min_width=36 if key == "col_import_id" else None)
    for i in items:
        counts = i.get("counts") or {}
        table.add_row(
            str(i["import_id"]), moment(i.get("created_at"), t), state_label(i["state"], t),
            cell(i.get("file_name"), t), cell(counts.get("rows", (i.get("sheet") or {}).get("row_count")), t),
            cell(counts.get("errors"), t), cell(counts.get("warnings"), t), cell(i.get("tag"), t),
        )
    return table


def mapping_table(columns: Sequence[Mapping[str, Any]], chosen: Mapping[int, str], t: Messages) -> Table:
    """Each column of the sheet, what was suggested for it, and what will be imported."""
    table = Table(title=t("mapping_title"))
    for key in ("col_column", "col_header", "col_suggested", "col_imported_as"):
        table.add_column(t(key))
    for column in columns:
        index = column["index"]
        suggested = column.get("suggested_field")
        imported = chosen.get(index)
        shown = f"[green]{escape(imported)}[/green]" if imported else f"[dim]{t('ignored')}[/dim]"
        table.add_row(column.get("letter") or column_letter(index), cell(column["header"], t),
                      cell(suggested, t) or "—", shown)
    return table


def feedback_table(items: Sequence[Mapping[str, Any]], t: Messages, title: str | None = None) -> Table:
    """Errors before warnings, then in sheet order; row and column as the sheet shows them."""
    table = Table(title=title or t("feedback_title"))
    for key in ("col_severity", "col_row", "col_column", "col_value", "col_message"):
        table.add_column(t(key), overflow="fold")
    for item in sorted_feedback(items):
        severity = item["severity"]
        label = f"[red]{t('error')}[/red]" if severity == "error" else f"[yellow]{t('warning')}[/yellow]"
        column = item.get("column") or item.get("header") or ""
        if item.get("column") and item.get("header"):
            column = f"{item['column']} ({item['header']})"
        table.add_row(label, cell(item.get("row"), t), cell(column, t), cell(item.get("value"), t),
                      escape(item.get("message") or ""))
    return table


def sorted_feedback(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(items, key=lambda i: (i["severity"] != "error", i.get("row") or 0))


def counts_table(counts: Mapping[str, Any], t: Messages) -> Table:
    """What validation found and what a start would do."""
    table = Table(title=t("counts_title"), show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    for key in ("rows", "errors", "warnings", "to_create", "to_update", "unchanged"):
        value = counts.get(key)
        if value is not None:
            style = "red" if key == "errors" and value else ""
            table.add_row(t(f"count_{key}"), f"[{style}]{value}[/{style}]" if style else str(value))
    return table


def result_table(result: Mapping[str, Any], t: Messages) -> Table:
    table = Table(title=t("result_title"), show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    for key in ("created", "updated", "unchanged", "skipped", "failed"):
        table.add_row(t(f"result_{key}"), str(result.get(key, 0)))
    return table
