"""A real spreadsheet program reads the exports: LibreOffice converts them to CSV and the
cells equal ours. Slow (a few seconds per conversion), so marked `libreoffice`."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from shared.cells import unescape_formula

from .factories import make_contact
from .test_csv_writer import export_csv
from .xlsx_reading import export_xlsx

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"),
]

# Filter options of LibreOffice's CSV filter: separator `;` (59), quote `"` (34), UTF-8
# (76), from line 1, then per-column formats (2 = text, so "0123" stays "0123" on import),
# language pt-BR (1046); on export the 9th token, true, saves cells as shown.
_COLUMNS_AS_TEXT = "/".join(f"{n}/2" for n in range(1, 30))
IMPORT_OPTIONS = f"59,34,76,1,{_COLUMNS_AS_TEXT},1046"
EXPORT_OPTIONS = "59,34,76,1,,1046,false,true,true,false,false"
FIELDS = ["name", "company", "phones", "legal_entity", "funcionarios", "faturamento", "fundacao", "updated_at", "cpf"]
TRICKY_NAMES = [
    "=SUM(A1)", "+55 11 99999-0000", "-menos", "@arroba", "\ttab", "'aspas simples", "José; \"Zé\"",
    "0012345", "1234567890123456789", "quebra\nde linha", "ação", "_x0041_",
]  # fmt: skip


def convert_to_csv(source: Path, tmp_path: Path, import_options: str | None = None) -> list[list[str]]:
    out = tmp_path / "out"
    command = [
        "soffice",
        f"-env:UserInstallation=file://{tmp_path / 'profile'}",
        "--headless",
        "--norestore",
    ]
    if import_options:
        command.append(f"--infilter=Text - txt - csv (StarCalc):{import_options}")
    command += ["--convert-to", f"csv:Text - txt - csv (StarCalc):{EXPORT_OPTIONS}", "--outdir", str(out), str(source)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    (converted,) = out.glob("*.csv")
    text = converted.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def ours(contacts) -> list[list[str]]:
    text = export_csv(contacts, fields=FIELDS).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def contacts():
    return [make_contact(id=i, name=name) for i, name in enumerate(TRICKY_NAMES, start=1)]


def test_libreoffice_reads_the_xlsx_with_our_cells(tmp_path: Path) -> None:
    source = tmp_path / "contatos.xlsx"
    source.write_bytes(export_xlsx(contacts(), fields=FIELDS))

    theirs = convert_to_csv(source, tmp_path)
    expected = [[unescape_formula(cell) for cell in row] for row in ours(contacts())]

    assert theirs[0] == expected[0]
    for got, want in zip(theirs[1:], expected[1:], strict=True):
        # Numbers are shown in LibreOffice's own locale here (en-US): compare them as numbers.
        decimal_column = FIELDS.index("faturamento") + 1
        assert Decimal(got[decimal_column]) == Decimal(want[decimal_column].replace(",", "."))
        got[decimal_column] = want[decimal_column]
        assert got == want


def test_libreoffice_reads_the_csv_with_our_cells(tmp_path: Path) -> None:
    source = tmp_path / "contatos.csv"
    source.write_bytes(export_csv(contacts(), fields=FIELDS))

    theirs = convert_to_csv(source, tmp_path, IMPORT_OPTIONS)

    assert theirs == ours(contacts())
