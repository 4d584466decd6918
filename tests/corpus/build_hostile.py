"""Builds hostile and broken input files at test time (no binaries in git).

    python tests/corpus/build_hostile.py OUT_DIR     # writes the corpus, prints a table

`build_corpus(folder)` returns one `HostileFile` per case: the path and the
FileRejected code the importer must end in (None: the file must read, within bounds).
Sizes are over the readers' default limits but kept small enough for a fast suite: a
"1 GB line" is a 64 MiB line (the reader refuses after its 4 Mi-character line limit,
so the outcome and the memory are the same as at 1 GB). `LONG_CASES` holds the 1 GiB
ones, streamed to disk, for the long mode.
"""

from __future__ import annotations

import os
import random
import struct
import sys
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass(frozen=True)
class HostileFile:
    name: str
    path: Path
    expected_code: str | None  # None: reads fine (within time and memory bounds)


# --- a hand-made XLSX, so that tests control every byte of the sheet XML ---------------


def sheet_xml(rows: str, *, before: str = "", after: str = "", prolog: str = "") -> bytes:
    """A worksheet part: `rows` is the inside of <sheetData>."""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{before}'
        f"<sheetData>{rows}</sheetData>{after}</worksheet>"
    ).encode()


def write_xlsx(
    path: Path,
    sheets: dict[str, bytes | Iterable[bytes]],
    *,
    shared_strings: list[str] | None = None,
    styles: bytes | None = None,
    states: dict[str, str] | None = None,
    date1904: bool = False,
) -> Path:
    """A minimal but valid XLSX package (Excel, LibreOffice and openpyxl open it)."""
    states = states or {}
    names = list(sheets)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(names) + 1)
        )
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="applicati'
            'on/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" Conten'
            'tType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="appli'
            'cation/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_RELS}">'
            f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        sheet_elements = "".join(
            f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"'
            + (f' state="{states[name]}"' if name in states else "")
            + "/>"
            for i, name in enumerate(names, start=1)
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" '
            f'xmlns:r="{REL_NS}"><workbookPr date1904="{int(date1904)}"/>'
            f"<sheets>{sheet_elements}</sheets></workbook>",
        )
        rels = [
            f'<Relationship Id="rId{i}" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(names) + 1)
        ]
        if shared_strings is not None:
            rels.append(f'<Relationship Id="rIdS" Type="{_DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>')
            items = "".join(f'<si><t xml:space="preserve">{_esc(s)}</t></si>' for s in shared_strings)
            archive.writestr(
                "xl/sharedStrings.xml",
                f'<sst xmlns="{MAIN_NS}" count="{len(shared_strings)}">{items}</sst>',
            )
        if styles is not None:
            rels.append(f'<Relationship Id="rIdT" Type="{_DOC_RELS}/styles" Target="styles.xml"/>')
            archive.writestr("xl/styles.xml", styles)
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG_RELS}">{"".join(rels)}</Relationships>',
        )
        for i, name in enumerate(names, start=1):
            content = sheets[name]
            if isinstance(content, bytes):
                archive.writestr(f"xl/worksheets/sheet{i}.xml", content)
            else:
                with archive.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as part:
                    for chunk in content:
                        part.write(chunk)
    return path


def date_styles() -> bytes:
    """Style 0 General, 1 dd/mm/yyyy (custom 164), 2 builtin 14, 3 [h]:mm (duration)."""
    return (
        f'<styleSheet xmlns="{MAIN_NS}"><numFmts count="2">'
        '<numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
        '<numFmt numFmtId="165" formatCode="[h]:mm"/></numFmts>'
        '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
        '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/>'
        '<xf numFmtId="165"/></cellXfs></styleSheet>'
    ).encode()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline_row(number: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{_letter(i)}{number}" t="inlineStr"><is><t>{_esc(v)}</t></is></c>' for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_MIB = 1024 * 1024
_HEADER = inline_row(1, ["ID", "Nome"])
_ROW = inline_row(2, ["1", "Ana"])

# --- an OLE2 compound file (what Excel wraps an encrypted XLSX in) -----------------------

_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def write_ole2(path: Path, streams: dict[str, bytes]) -> Path:
    """A version-3 compound file holding `streams` (each padded to >= 4096 bytes, so no
    mini stream is needed)."""
    sector = 512
    bodies = [data.ljust(max(4096, -(-len(data) // sector) * sector), b"\0") for data in streams.values()]
    fat = [_FATSECT, _END]  # sector 0: the FAT, sector 1: the directory
    starts = []
    for body in bodies:
        count = len(body) // sector
        start = len(fat)
        starts.append(start)
        fat.extend(start + k + 1 for k in range(count - 1))
        fat.append(_END)
    if len(fat) > sector // 4:
        raise ValueError("streams too big for this tiny writer")
    fat.extend([_FREE] * (sector // 4 - len(fat)))
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, _END, 0, _END, 0)
    difat = [0] + [_FREE] * 108
    struct.pack_into("<109I", header, 76, *difat)
    names = list(streams)
    entries = [_dir_entry("Root Entry", 5, child=1 if names else _NOSTREAM, start=_END, size=0)]
    for i, (name, body_start) in enumerate(zip(names, starts, strict=True)):
        right = i + 2 if i + 1 < len(names) else _NOSTREAM
        entries.append(_dir_entry(name, 2, right=right, start=body_start, size=len(streams[name])))
    while len(entries) % 4:
        entries.append(_dir_entry("", 0, start=0, size=0))
    directory = b"".join(entries)
    if len(directory) > sector:
        raise ValueError("at most 3 streams in this tiny writer")
    with path.open("wb") as file:
        file.write(bytes(header))
        file.write(struct.pack(f"<{sector // 4}I", *fat))
        file.write(directory)
        for body in bodies:
            file.write(body)
    return path


def _dir_entry(name: str, kind: int, *, right: int = _NOSTREAM, child: int = _NOSTREAM, start: int, size: int) -> bytes:
    encoded = name.encode("utf-16-le") + b"\0\0" if name else b""
    entry = bytearray(128)
    entry[0 : len(encoded)] = encoded
    struct.pack_into("<HBB", entry, 64, len(encoded), kind, 1)
    struct.pack_into("<III", entry, 68, _NOSTREAM, right if kind else _NOSTREAM, child)
    struct.pack_into("<IQ", entry, 116, start, size)
    return bytes(entry)


# --- the corpus ----------------------------------------------------------------------------


def _zip_bomb(path: Path) -> None:
    # 64 MiB of one byte inflates from ~64 KiB: refused on the ratio, never inflated.
    blank = b" " * (1024 * 1024)
    write_xlsx(
        path,
        {
            "Contatos": [
                sheet_xml(_HEADER + _ROW)[:-12],
                *(blank for _ in range(64)),
                b"</worksheet>",
            ]
        },
    )


def _billion_laughs(path: Path) -> None:
    lol = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
        + "]>"
    )
    cell = '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    write_xlsx(path, {"Contatos": sheet_xml(_HEADER + cell, prolog=lol)})


def _xxe(path: Path) -> None:
    prolog = '<!DOCTYPE x [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
    cell = '<row r="2"><c r="A2" t="inlineStr"><is><t>&leak;</t></is></c></row>'
    write_xlsx(path, {"Contatos": sheet_xml(_HEADER + cell, prolog=prolog)})


def _absurd_dimension(path: Path) -> None:
    write_xlsx(path, {"Contatos": sheet_xml(_HEADER + _ROW, before='<dimension ref="A1:XFD1048576"/>')})


def _xlsx_empty_columns(path: Path) -> None:
    # Every one of Excel's 16,384 columns present, empty, on every row.
    empties = "".join(f'<c r="{_letter(i)}{{n}}" t="inlineStr"><is><t></t></is></c>' for i in range(2, 16384))
    rows = "".join(
        inline_row(n, values)[:-6] + empties.replace("{n}", str(n)) + "</row>"
        for n, values in ((1, ["ID", "Nome"]), (2, ["1", "Ana"]))
    )
    write_xlsx(path, {"Contatos": sheet_xml(rows)})


def _csv_empty_columns(path: Path) -> None:
    path.write_bytes(b"ID;Nome" + b";" * 1_000_000 + b"\r\n1;Ana" + b";" * 1_000_000 + b"\r\n")


def _csv_widest_line_accepted(path: Path) -> None:
    # The longest line the reader accepts (ReaderLimits.max_csv_line_chars), all
    # separators: the csv module's most fields for one record, so the CSV reader's most
    # memory whatever the file (trailing empty columns are not columns: it reads).
    path.write_bytes(b"ID;Nome\r\n1;Ana" + b";" * (4 * _MIB - 8) + b"\r\n")


def _csv_widest_record(path: Path) -> None:
    # A line just under the line limit of one-character cells that are not Latin-1 (so
    # not interned by CPython): the most Python objects one record can make. Refused
    # (too_many_columns) once parsed; the bound is on the parse.
    path.write_bytes(b"ID;Nome\r\n1;Ana" + ";€".encode() * (2 * _MIB - 8) + b"\r\n")


def _csv_widest_quoted_record(path: Path) -> None:
    # The same with one quoted cell: the reader's check of wide lines (str methods only)
    # leaves a line with quotes to the csv module, which makes every cell's object.
    path.write_bytes(b'ID;Nome\r\n1;"Ana"' + ";€".encode() * (2 * _MIB - 8) + b"\r\n")


def _csv_many_columns(path: Path) -> None:
    path.write_bytes(b";".join(b"c%d" % i for i in range(100_000)) + b"\r\n1;2\r\n")


def _csv_huge_line(path: Path) -> None:
    write_csv_line(path, 64 * _MIB)


def write_csv_line(path: Path, size: int) -> Path:
    """A header, then one data line of `size` bytes ("1;" and letters), streamed to disk
    in 1 MiB blocks (never held in memory)."""
    block = b"a" * _MIB
    with path.open("wb") as file:
        file.write(b"ID;Nome\r\n1;")
        for _ in range(size // _MIB):
            file.write(block)
        file.write(block[: size % _MIB])
        file.write(b"\r\n")
    return path


def write_csv_quoted_field(path: Path, size: int) -> Path:
    """A header, then a quoted cell of `size` bytes of short lines that never ends before
    the end of the file: one record as far as a CSV parser knows; streamed."""
    line = b"x" * 1000 + b"\r\n"
    block = line * (_MIB // len(line))
    with path.open("wb") as file:
        file.write(b'ID;Nome\r\n1;"')
        for _ in range(size // len(block)):
            file.write(block)
        file.write(b'"\r\n')
    return path


def _csv_huge_quoted_field(path: Path) -> None:
    with path.open("wb") as file:
        file.write(b'ID;Nome\r\n1;"')
        for _ in range(2000):
            file.write(b"x" * 1000 + b"\r\n")  # many short lines, one cell
        file.write(b'"\r\n')


def _csv_invalid_utf8(path: Path) -> None:
    rows = [f"{n};João {n}\r\n".encode() for n in range(2, 5000)]
    rows.insert(3000, b"3001;Jo\xe3o\xff\r\n")
    path.write_bytes(b"ID;Nome\r\n" + b"".join(rows))


def _csv_utf16_no_bom(path: Path) -> None:
    path.write_bytes("ID;Nome\r\n1;João\r\n".encode("utf-16-le"))


def _csv_nuls(path: Path) -> None:
    path.write_bytes(b"ID;Nome\r\n1;Ana\r\n2;B\x00ia\r\n")


def _csv_unbalanced_quote(path: Path) -> None:
    path.write_bytes(b'ID;Nome\r\n1;Ana\r\n2;"Bia\r\n3;Carla\r\n')


def _truncated_xlsx(path: Path) -> None:
    full = path.with_suffix(".full")
    write_xlsx(full, {"Contatos": sheet_xml(_HEADER + _ROW * 200)})
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: len(data) // 2])


def _encrypted_ole2(path: Path) -> None:
    write_ole2(
        path,
        {
            "EncryptionInfo": b"\x04\x00\x04\x00" + os.urandom(200),
            "EncryptedPackage": os.urandom(5000),
        },
    )


def _corrupt_xls(path: Path) -> None:
    write_ole2(path, {"Workbook": os.urandom(6000)})


def _binary_garbage(path: Path) -> None:
    path.write_bytes(random.Random(3).randbytes(20_000))


def _html_as_xls(path: Path) -> None:
    path.write_bytes(
        b"\r\n<html><head><meta charset='utf-8'></head><body><table><tr><td>ID</td>"
        b"<td>Nome</td></tr><tr><td>1</td><td>Ana</td></tr></table></body></html>"
    )


def _plain_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("contatos.csv", "ID;Nome\r\n1;Ana\r\n")


def _many_zip_entries(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for i in range(10_001):
            archive.writestr(f"x/{i}", b"")


def _xlsx_far_right_cells(path: Path) -> None:
    # 8,000 short rows with one cell in the last column (XFD): 300 KiB of sheet XML, each
    # row a 16,384-cell list once read. Refused (too_many_columns) from row 1; the bound
    # is on what reading costs before the refusal.
    rows = "".join(f'<row r="{n}"><c r="XFD{n}" t="b"><v>1</v></c></row>' for n in range(1, 8001))
    write_xlsx(path, {"Contatos": sheet_xml(rows)})


def _formulas_everywhere(path: Path) -> None:
    rows = "".join(
        f'<row r="{n}">' + "".join(f'<c r="{_letter(c)}{n}"><f>ROW()*{c}</f></c>' for c in range(20)) + "</row>"
        for n in range(2, 5002)
    )
    write_xlsx(path, {"Contatos": sheet_xml(_HEADER + rows)})


def _merged(path: Path) -> None:
    write_xlsx(
        path,
        {"Contatos": sheet_xml(_HEADER + _ROW, after='<mergeCells count="1"><mergeCell ref="A2:B2"/></mergeCells>')},
    )


def _empty(path: Path) -> None:
    path.write_bytes(b"")


CASES: dict[str, tuple[str, Callable[[Path], None], str | None]] = {
    "zip_bomb": ("bomb.xlsx", _zip_bomb, "zip_bomb"),
    "many_zip_entries": ("entries.xlsx", _many_zip_entries, "zip_bomb"),
    "billion_laughs": ("laughs.xlsx", _billion_laughs, "corrupt_file"),
    "xxe": ("xxe.xlsx", _xxe, "corrupt_file"),
    "absurd_dimension": ("dimension.xlsx", _absurd_dimension, None),
    "xlsx_16384_empty_columns": ("wide.xlsx", _xlsx_empty_columns, None),
    "csv_1e6_empty_columns": ("wide.csv", _csv_empty_columns, None),
    "csv_widest_line_accepted": ("widest.csv", _csv_widest_line_accepted, None),
    "csv_widest_record": ("widest-record.csv", _csv_widest_record, "too_many_columns"),
    "csv_widest_quoted_record": ("widest-quoted.csv", _csv_widest_quoted_record, "too_many_columns"),
    "csv_1e5_columns": ("columns.csv", _csv_many_columns, "too_many_columns"),
    "csv_huge_line": ("line.csv", _csv_huge_line, "cell_too_long"),
    "csv_huge_quoted_field": ("quoted.csv", _csv_huge_quoted_field, "cell_too_long"),
    "csv_invalid_utf8": ("utf8.csv", _csv_invalid_utf8, "invalid_encoding"),
    "csv_utf16_no_bom": ("utf16.csv", _csv_utf16_no_bom, "invalid_encoding"),
    "csv_nuls": ("nuls.csv", _csv_nuls, "nul_bytes"),
    "csv_unbalanced_quote": ("quote.csv", _csv_unbalanced_quote, "unbalanced_quotes"),
    "truncated_xlsx": ("truncated.xlsx", _truncated_xlsx, "corrupt_file"),
    "encrypted_ole2": ("encrypted.xlsx", _encrypted_ole2, "password_protected"),
    "corrupt_xls": ("corrupt.xls", _corrupt_xls, "corrupt_file"),
    "binary_garbage": ("garbage.csv", _binary_garbage, "binary_file"),
    "html_as_xls": ("page.xls", _html_as_xls, "xls_is_html"),
    "plain_zip": ("archive.xlsx", _plain_zip, "not_a_spreadsheet"),
    "formulas_everywhere": ("formulas.xlsx", _formulas_everywhere, None),
    "merged_cells": ("merged.xlsx", _merged, "merged_cells"),
    "empty": ("empty.csv", _empty, "empty_file"),
    "xlsx_far_right_cells": ("far-right.xlsx", _xlsx_far_right_cells, "too_many_columns"),
}


def _csv_gib_line(path: Path) -> None:
    write_csv_line(path, 1024 * _MIB)


def _csv_gib_quoted_field(path: Path) -> None:
    write_csv_quoted_field(path, 1024 * _MIB)


# The "1 GB CSV line", and a quoted field as long: 1 GiB each on disk, so built in
# the long mode only (CRM_BULK_LONG=1, bench/hostile_inputs.py --long). The default
# corpus proves the same refusal on 64 MiB and 2 MB: the reader stops after
# ReaderLimits.max_csv_line_chars (or the csv module's field limit), whatever follows.
LONG_CASES: dict[str, tuple[str, Callable[[Path], None], str | None]] = {
    "csv_1gib_line": ("gib-line.csv", _csv_gib_line, "cell_too_long"),
    "csv_1gib_quoted_field": ("gib-quoted.csv", _csv_gib_quoted_field, "cell_too_long"),
}


def build(name: str, folder: Path) -> HostileFile:
    file_name, writer, code = CASES[name] if name in CASES else LONG_CASES[name]
    path = folder / f"{name}-{file_name}"
    writer(path)
    return HostileFile(name, path, code)


def build_corpus(folder: Path) -> list[HostileFile]:
    return [build(name, folder) for name in CASES]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    out.mkdir(parents=True, exist_ok=True)
    for hostile in build_corpus(out):
        print(f"{hostile.name:<28} {hostile.path.stat().st_size:>12,} {hostile.expected_code}")
