"""Writing an export to bytes and reading it back as openpyxl and calamine see it."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from typing import Any

import openpyxl
import python_calamine

from services.export.domain.columns import build_columns
from services.export.domain.xlsx_writer import iter_xlsx_chunks
from shared.contacts_api import AccountContext, ContactRecord

from .factories import make_context

EXPORT_ID = uuid.UUID("9b2f6c1e-3f4a-4c55-9d0e-0123456789ab")


def export_xlsx(
    contacts: Sequence[ContactRecord],
    locale: str = "pt-BR",
    fields: Sequence[str] | None = None,
    context: AccountContext | None = None,
    chunk_size: int = 1 << 20,
) -> bytes:
    context = context or make_context()
    columns = build_columns(context, locale, fields)
    return b"".join(iter_xlsx_chunks(columns, context, contacts, EXPORT_ID, locale, chunk_size=chunk_size))


def openpyxl_book(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


def openpyxl_rows(data: bytes) -> list[tuple[Any, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def calamine_book(data: bytes) -> Any:
    return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))


def calamine_rows(data: bytes) -> list[list[Any]]:
    return calamine_book(data).get_sheet_by_index(0).to_python()
