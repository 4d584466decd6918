"""Spreadsheet files as users send them, built in memory for the tests."""

from __future__ import annotations

import io
import zipfile
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


_NUL_MARK = "\u2400NUL\u2400"  # stands for NUL while openpyxl writes (it refuses NUL)


def xlsx_with_nul(rows: Sequence[Sequence[Any]], sheet: str = "Contatos") -> bytes:
    """An XLSX whose text cells may hold NUL, written `_x0000_` as Excel writes it."""
    marked = [[v.replace("\x00", _NUL_MARK) if isinstance(v, str) else v for v in row] for row in rows]
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(marked, sheet)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as patched:
        for info in source.infolist():
            patched.writestr(info, source.read(info).replace(_NUL_MARK.encode(), b"_x0000_"))
    return out.getvalue()
