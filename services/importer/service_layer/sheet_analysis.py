"""What prepare reads from an uploaded file: its sheet (header, format), its row count,
and the suggested field of each column."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.importer.adapters.import_repository import PreparedSheet
from services.importer.domain.feedback import FeedbackItem
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.mapping import header_signature, suggest_mapping
from services.importer.domain.readers import ReaderLimits, open_sheet
from services.importer.domain.sheet import FileFormat, SheetInfo
from shared.contacts_api import AccountContext

RememberedMapping = Callable[[str], Awaitable[list[str | None] | None]]


@dataclass(frozen=True, slots=True)
class SheetSummary:
    info: SheetInfo
    row_count: int


def summarise_sheet(path: Path, sheet_name: str | None, limits: ReaderLimits) -> SheetSummary:
    """Opens the sheet and counts its rows by a full pass, so that every check the readers
    make (limits, quotes, encodings) is made now. Raises FileRejected."""
    with open_sheet(path, sheet_name=sheet_name, limits=limits) as reader:
        return SheetSummary(reader.info, reader.count_rows())


async def analyse_upload(
    path: Path,
    sheet_name: str | None,
    limits: ReaderLimits,
    account: AccountContext,
    remembered: RememberedMapping,
) -> PreparedSheet:
    """The file's sheet as prepare stores it. Raises FileRejected for a refused file."""
    # Reading is CPU and disk: off the event loop, so that other requests and the
    # consumers' heartbeats go on.
    summary = await asyncio.to_thread(summarise_sheet, path, sheet_name, limits)
    info = summary.info
    signature = header_signature(info.header)
    with_letters = info.format is not FileFormat.CSV
    suggested = suggest_mapping(
        info.header,
        AccountFields.from_account(account),
        account_locale=account.locale,
        header_row_number=info.header_row_number,
        with_letters=with_letters,
        export_metadata=info.export_metadata,
        remembered=await remembered(signature),
    )
    columns = [
        {
            "index": c.index,
            "header": c.header,
            "letter": c.letter if with_letters else None,
            "suggested_field": c.field_key,
            "source": c.source.value if c.source else None,
        }
        for c in suggested.columns
    ]
    return PreparedSheet(
        file_format=info.format.value,
        sheet_name=info.sheet_name,
        sheet_names=list(info.sheet_names),
        header=list(info.header),
        header_signature=signature,
        sheet_locale=suggested.sheet_locale,
        row_count=summary.row_count,
        columns=columns,
        mapping_feedback=[feedback_as_json(item) for item in suggested.feedback],
    )


def feedback_as_json(item: FeedbackItem) -> dict[str, Any]:
    from services.importer.adapters.validation_store import json_safe

    return json_safe(
        {
            "severity": item.severity.value,
            "code": item.code,
            "row_number": item.row_number,
            "column": item.column,
            "header": item.header,
            "field_key": item.field_key,
            "value": item.value,
            "params": dict(item.params),
        }
    )
