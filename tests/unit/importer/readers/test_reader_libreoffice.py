"""Files saved by LibreOffice (headless), as Brazilian users' files are: XLSX, XLS, and
CSV with ";" in Windows-1252 and UTF-8."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from services.importer.domain.readers import open_sheet
from services.importer.domain.sheet import FileFormat, RawRow

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed"),
]

_FILTERS = {
    "xlsx": "xlsx",
    "xls": "xls",
    "csv-1252": "csv:Text - txt - csv (StarCalc):59,34,1252",
    "csv-utf8": "csv:Text - txt - csv (StarCalc):59,34,76",
}


def _source(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Contatos"
    sheet.append(["ID", "Nome", "Observação", "Nascimento", "Dobro"])
    sheet.append(
        [
            1,
            "João da Conceição",
            "linha 1\nlinha 2; com ponto e vírgula",
            datetime(1990, 5, 17),
            "=A2*2",
        ]
    )
    sheet.append([2, 'Ana "Aninha"', None, None, "=A3*2"])
    sheet["D2"].number_format = "dd/mm/yyyy"
    workbook.save(path)
    return path


def _convert(source: Path, kind: str, folder: Path) -> Path:
    out = folder / kind
    out.mkdir()
    profile = f"file:///tmp/lo-profile-{os.getpid()}"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            _FILTERS[kind],
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=150,
    )
    (converted,) = out.iterdir()
    return converted


@pytest.mark.parametrize("kind", list(_FILTERS))
def test_libreoffice_saved_file_reads_as_the_user_sees_it(tmp_path: Path, kind: str) -> None:
    converted = _convert(_source(tmp_path / "contatos.xlsx"), kind, tmp_path)
    with open_sheet(converted) as reader:
        info = reader.info
        rows = list(reader.rows())
    assert info.header == ("ID", "Nome", "Observação", "Nascimento", "Dobro")
    note = "linha 1\nlinha 2; com ponto e vírgula"
    if kind.startswith("csv"):
        assert info.format is FileFormat.CSV
        assert info.delimiter == ";"
        assert info.encoding == ("cp1252" if kind == "csv-1252" else "utf-8")
        assert rows == [
            RawRow(2, ("1", "João da Conceição", note, "17/05/1990", "2")),
            RawRow(3, ("2", 'Ana "Aninha"', None, None, "4")),
        ]
    else:
        assert info.format is (FileFormat.XLS if kind == "xls" else FileFormat.XLSX)
        # LibreOffice computed the formulas: their cached values are read.
        assert rows == [
            RawRow(2, (1, "João da Conceição", note, datetime(1990, 5, 17), 2)),
            RawRow(3, (2, 'Ana "Aninha"', None, None, 4)),
        ]
