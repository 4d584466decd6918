"""Spreadsheet files as users send them, built in memory for the tests."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

HEADER_PT = ["ID", "Nome", "E-mail", "Sessão (Ciclo de vida)", "Jurídico"]


def csv_bytes(rows: Sequence[Sequence[Any]], *, sep: str = ";", encoding: str = "cp1252") -> bytes:
    lines = [sep.join("" if v is None else str(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[Any]], sheet: str = "Contatos") -> bytes:
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
