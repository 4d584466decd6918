"""Coverage-guided fuzzing (atheris, libFuzzer) of the importer's readers and cell parsers,
for a bounded time: no exception but `FileRejected` from a reader, none at all from a
cell parser, no input slower than PER_INPUT_TIMEOUT_S, no RSS over RSS_LIMIT_MB.

Each target runs in a subprocess (this file as a script: `atheris.Fuzz` never returns,
it exits) on seeds written here: CSVs as users save them, XLSX files from the export
writer and from openpyxl. The XLSX target builds a valid zip from the fuzzed bytes
(so that mutations reach the XML parsers instead of failing the CRC) or, one input in
four, takes them as the file itself. About 25 s in the default suite, the same inputs on
every run (FIXED_RUNS); 5 min per target from a new seed with CRM_BULK_LONG=1, and inputs
it finds go into FOUND, replayed on every run. A failure prints libFuzzer's report, the Python traceback and the
saved input (`crash-…`/`timeout-…`), and `Seed:` to replay the run.

atheris publishes wheels for Linux x86_64 only (pyproject's marker): elsewhere this
module is skipped; test_reader_properties.py's hypothesis tests still run.
"""

from __future__ import annotations

import base64
import codecs
import csv
import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

try:
    import atheris
except ImportError:  # no wheel for this platform
    atheris = None

needs_atheris = pytest.mark.skipif(atheris is None, reason="atheris has wheels for Linux x86_64 only")

ROOT = Path(__file__).resolve().parents[4]
LONG = os.environ.get("CRM_BULK_LONG") == "1"
# Seconds of fuzzing per target (libFuzzer's -max_total_time); start-up comes on top.
SECONDS = {"csv": 300, "xlsx": 300, "cells": 300} if LONG else {"csv": 12, "xlsx": 16, "cells": 10}
# The default suite runs the same inputs on every machine: a fixed seed and number of
# runs (about 6, 8 and 5 s here; SECONDS caps a slower machine), so that a commit's
# verdict is reproducible and a red run names a real regression. The long mode explores
# from a new seed each time (its report prints `Seed:`) and saves what it finds.
FIXED_RUNS = None if LONG else {"csv": 8_000, "xlsx": 8_000, "cells": 200_000}
FIXED_SEED = 1
MAX_LEN = {"csv": 8192, "xlsx": 32768, "cells": 256}
PER_INPUT_TIMEOUT_S = 10
RSS_LIMIT_MB = 1536

# The parts of an XLSX the structured input carries, in this order, separated by PART.
XLSX_PARTS = (
    "[Content_Types].xml",
    "_rels/.rels",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
    "xl/sharedStrings.xml",
    "xl/worksheets/sheet1.xml",
    "xl/worksheets/sheet2.xml",
)
PART = b"\x00\x00PART\x00\x00"
XML_TOKENS = (
    '<row r="', "<row>", "</row>", '<c r="', '" t="s"', '" t="n"', '" t="b"', '" t="e"', '" t="d"', '" t="str"',
    '" t="inlineStr"', '" s="1"', "<v>", "</v>", "<f>", "</f>", '<f t="shared" si="0"', "<is><t>", "</t></is>",
    "<si><t>", "</t></si>", "<rPh>", "</rPh>", "<sheetData>", "</sheetData>", "<mergeCell ref=\"", "<dimension ref=\"",
    '<sheet name="', 'state="hidden"', 'state="veryHidden"', 'r:id="rId', "<numFmt ", 'formatCode="dd/mm/yyyy"',
    "<cellXfs>", "<xf numFmtId=\"14\"/>", 'date1904="1"', "_x000D_", "_x0000_", "XFD", "1048576", "&amp;", "&#0;",
    "<!DOCTYPE", "<!ENTITY", "crm-bulk-export", "field_keys", "export_id", "crm_bulk_meta",
)  # fmt: skip
CSV_TOKENS = ('"', '""', ";", ",", "\t", "|", "\r\n", "\n", "\r", "'=", "\ufeff", "\x00", "\xff\xfe", "ç", "ã")


@needs_atheris
@pytest.mark.timeout(600 if LONG else 120)
@pytest.mark.parametrize("target", list(SECONDS))
def test_fuzzing_finds_no_crash_no_hang(tmp_path: Path, target: str) -> None:
    seeds = tmp_path / "corpus"
    seeds.mkdir()
    for number, seed in enumerate(SEEDS[target]()):
        (seeds / f"seed-{number}").write_bytes(seed)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    dictionary = tmp_path / "tokens.dict"
    tokens = XML_TOKENS if target == "xlsx" else CSV_TOKENS
    dictionary.write_text("".join(f'"{_dict_escape(token)}"\n' for token in tokens), encoding="ascii")
    command = [
        sys.executable,
        __file__,
        target,
        str(seeds),
        f"-max_total_time={SECONDS[target]}",
        f"-timeout={PER_INPUT_TIMEOUT_S}",
        f"-rss_limit_mb={RSS_LIMIT_MB}",
        f"-max_len={MAX_LEN[target]}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        *([] if target == "cells" else [f"-dict={dictionary}"]),
        *([] if FIXED_RUNS is None else [f"-seed={FIXED_SEED}", f"-runs={FIXED_RUNS[target]}"]),
    ]
    done = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=SECONDS[target] + 90,
        # A fixed hash seed too: set and dict orders steer which code runs.
        env={**os.environ, "PYTHONPATH": str(ROOT), **({} if FIXED_RUNS is None else {"PYTHONHASHSEED": "0"})},
    )
    report = done.stderr[-6000:] + "".join(f"\nsaved input: {path}" for path in sorted(artifacts.iterdir()))
    assert done.returncode == 0, report
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", done.stderr)
    assert runs and int(runs[1]) >= 100, report  # it fuzzed, not just started


@pytest.mark.parametrize(
    ("stored", "cell"),
    [
        ("12345678901", "1,2E+309"),
        ("1" * 400, 5.0),
        ("1" * 20, "1,2E+999999999"),
        ("1" * 5000, 5.0),
        ("1" * 20, "1,2E+" + "9" * 25),
    ],
    ids=[
        "scientific_text_past_float",
        "stored_digits_past_float",
        "exponent_past_decimal_context",
        "stored_digits_past_int_conversion",
        "exponent_past_decimal_parsing",
    ],
)
def test_looks_mangled_survives_numbers_past_float(stored: str, cell: object) -> None:
    """Validation calls looks_mangled(stored, cell) on a changed text cell whose stored
    value is a digit string: `1,2E+309` typed in a CPF column, or a number cell against a
    stored string of over 308 digits, raised OverflowError (int too large to convert to
    float) out of the validation run instead of giving False (found by the cells target).
    Then the long fuzzing found `1,2E+999999999` (decimal.Overflow subtracting numbers
    that far apart) and an exponent of 25 digits (decimal.InvalidOperation parsing it);
    and int() refuses stored strings of more than 4,300 digits."""
    from services.importer.domain.spreadsheet_mangling import looks_mangled

    assert looks_mangled(stored, cell) is False


# Inputs that once failed a target (base64 of libFuzzer's saved `crash-…` file), replayed
# in-process on every run: the time-bound fuzzing may not come across them again.
FOUND = [
    # `0001-01-01 01-01` as a date-time: 01:00 at offset -01:00, year 0 in São Paulo
    # (OverflowError converting it to the account's zone).
    ("cells", "ATAwMDEtMDEtMDEgMDEtMDEtMDI6NTk6AdPT//8="),
]


@needs_atheris
@pytest.mark.parametrize(("target", "encoded"), FOUND)
def test_inputs_the_fuzzer_found_pass_their_target(tmp_path: Path, target: str, encoded: str) -> None:
    TARGETS[target](tmp_path)(base64.b64decode(encoded))


def _dict_escape(token: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else f"\\x{b:02X}" for c in token for b in c.encode())


# --- seeds ---------------------------------------------------------------------------------


def csv_seeds() -> list[bytes]:
    rows = [
        ["ID", "Nome", "E-mail", "Telefone", "Data de nascimento", "Renda mensal", "Cliente ativo"],
        ["1", "Ana Souza", "ana@example.com.br", "+55 11 91234-5678", "31/12/1990", "1.234,56", "SIM"],
        ["", 'Luíza "Lu" Araújo', "lu@example.com; lu2@example.com", "", "", "-0,5", "NÃO"],
        ["3", "Conceição\nda Silva", "", "(11) 3333-4444", "1990-12-31", "10", ""],
        ["4", "'=SOMA(A1)", "x@y", "", "45000", "", "1"],
    ]
    seeds = []
    for delimiter, encoding in ((";", "utf-8-sig"), (",", "utf-8"), (";", "cp1252"), ("\t", "utf-16")):
        text = io.StringIO()
        csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        seeds.append(text.getvalue().encode(encoding))
    seeds.append(b'ID;Nome\r\n1;"Ana\r\n2;Bia\r\n')  # a quote that never closes
    seeds.append(codecs.BOM_UTF8 + b"ID;Nome;;;\r\n;;;;\r\n7;Jo\xc3\xa3o;;;\r\n")
    return seeds


def _export_xlsx(count: int) -> bytes:
    from bench.export_writers import synthetic_contacts, synthetic_context
    from services.export.domain.columns import build_columns
    from services.export.domain.xlsx_writer import XlsxExportWriter

    context = synthetic_context()
    writer = XlsxExportWriter(build_columns(context), context, export_id="00000000-0000-0000-0000-0000000000f1")
    return b"".join(writer.write_rows(synthetic_contacts(context, count)) + writer.close())


def _openpyxl_xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["ID", "Nome", "Nascimento", "Ativo", "Renda", "Total"])
    sheet.append([1, "Ana", datetime(1990, 12, 31), True, 1234.5, "=E2*2"])
    sheet.append([2, "Bia", date(2001, 1, 2), False, -0.25, "=E3*2"])
    sheet.append([3, "Ana", time(13, 30), None, 10**15, "=SUM(E2:E3)"])
    workbook.create_sheet("Oculta").sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def structured_xlsx(package: bytes) -> bytes:
    """The fuzz input for an XLSX: mode byte 1, then the parts of XLSX_PARTS."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        names = set(archive.namelist())
        return b"\x01" + PART.join(archive.read(name) if name in names else b"" for name in XLSX_PARTS)


def xlsx_seeds() -> list[bytes]:
    packages = [_export_xlsx(3), _openpyxl_xlsx()]
    return [structured_xlsx(package) for package in packages] + [b"\x00" + package for package in packages]


def cell_seeds() -> list[bytes]:
    # The provider's choices, not a format: any bytes do; the coverage feedback does the rest.
    return [b"\x00" * 16, b"\x01\x02" + b"31/12/1990", bytes(range(64))]


SEEDS: dict[str, Callable[[], list[bytes]]] = {"csv": csv_seeds, "xlsx": xlsx_seeds, "cells": cell_seeds}


# --- the targets (run in the fuzzing subprocess) -----------------------------------------------


def xlsx_from_input(data: bytes) -> bytes:
    """Mode 0 (one input in four): the bytes are the file. Otherwise a stored zip of the
    parts the input carries (an empty part is left out)."""
    if not data or data[0] % 4 == 0:
        return data[1:]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in zip(XLSX_PARTS, data[1:].split(PART), strict=False):
            if content:
                archive.writestr(name, content)
    return buffer.getvalue()


def _reader_target(scratch: Path, make_file: Callable[[bytes], bytes]) -> Callable[[bytes], None]:
    from services.importer.domain.file_errors import FileRejected
    from services.importer.domain.readers import open_sheet

    path = scratch / "upload"

    def test_one_input(data: bytes) -> None:
        path.write_bytes(make_file(data))
        try:
            with open_sheet(path) as reader:
                header = reader.info.header
                assert header, "a sheet read has a header"
                for row in reader.rows():
                    assert row.row_number > reader.info.header_row_number
                    assert len(row.cells) >= len(header)
        except FileRejected as rejected:
            assert rejected.message("pt-BR") and rejected.message("en")

    return test_one_input


def _cells_target(_scratch: Path) -> Callable[[bytes], None]:
    from services.importer.domain.cell_parsing import CellParser
    from services.importer.domain.field_catalogue import AccountFields
    from services.importer.domain.parse_problem import ParseProblem
    from services.importer.domain.sheet import FormulaWithoutValue
    from services.importer.domain.spreadsheet_mangling import looks_mangled
    from services.importer.domain.unchanged_cells import cell_check
    from services.importer.domain.value_comparison import values_equal
    from tests.unit.importer.validation.builders import TZ, account

    locales = ["pt-BR", "en"]
    parsers = {locale: CellParser(account(locale=locale), locale) for locale in locales}
    specs = list(AccountFields.from_account(account()).fields)
    number_text = "0123456789.,-+ eE/:R$%'"

    def cell(fdp: Any) -> object:
        kind = fdp.ConsumeIntInRange(0, 9)
        if kind == 0:
            return None
        if kind == 1:
            return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 64))
        if kind == 2:
            return "".join(number_text[b % len(number_text)] for b in fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 24)))
        if kind == 3:
            return fdp.ConsumeIntInRange(-(2**63), 2**63)
        if kind == 4:
            return fdp.ConsumeFloat()  # nan and ±inf included: an XLSX <v> may hold them
        if kind == 5:
            return fdp.ConsumeBool()
        if kind in (6, 7):
            moment = datetime(1, 1, 1) + timedelta(seconds=fdp.ConsumeIntInRange(0, 315_537_897_599))
            return moment if kind == 6 else moment.date()
        if kind == 8:
            return time(fdp.ConsumeIntInRange(0, 23), fdp.ConsumeIntInRange(0, 59), fdp.ConsumeIntInRange(0, 59))
        return FormulaWithoutValue("=" + fdp.ConsumeUnicodeNoSurrogates(16))

    def test_one_input(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        locale = fdp.PickValueInList(locales)
        spec = fdp.PickValueInList(specs)
        parser = parsers[locale]
        first, second = cell(fdp), cell(fdp)
        parsed = parser.parse(first, spec)
        parser.parse_datetime(first)
        stored = parser.parse(second, spec)  # a value as the contacts service stores it
        if isinstance(stored, ParseProblem):
            return
        looks_mangled(stored, first)
        if cell_check(spec.type, locale, TZ)(first, stored):
            # The quick check may only say "unchanged" where the full judgement does.
            assert not isinstance(parsed, ParseProblem), (first, stored, parsed)
            assert values_equal(spec.type, parsed, stored, TZ), (first, stored, parsed)
        if not isinstance(parsed, ParseProblem):
            assert values_equal(spec.type, parsed, parsed, TZ), (first, parsed)

    return test_one_input


TARGETS: dict[str, Callable[[Path], Callable[[bytes], None]]] = {
    "csv": lambda scratch: _reader_target(scratch, bytes),
    "xlsx": lambda scratch: _reader_target(scratch, xlsx_from_input),
    "cells": _cells_target,
}


def fuzz(argv: list[str]) -> None:
    """`python test_fuzz_atheris.py TARGET CORPUS_DIR [libFuzzer flags]`; never returns."""
    import tempfile

    target, libfuzzer_args = argv[1], argv[2:]
    scratch = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    # Coverage feedback from our code only: the readers, the parsers, shared.
    with atheris.instrument_imports(include=["services.importer", "shared"]):
        test_one_input = TARGETS[target](scratch)
    atheris.Setup([argv[0], *libfuzzer_args], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    fuzz(sys.argv)
