"""The parts of an XLSX package the sheet reader needs: the workbook's sheets, the date
styles and the shared strings."""

from __future__ import annotations

import posixpath
import zipfile
from array import array
from dataclasses import dataclass

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.safe_xml import (
    expat_parser,
    feed_part,
    local_name,
    read_small_part,
)
from shared.ooxml import decode_xstring

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
WORKBOOK_PART = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


@dataclass(frozen=True, slots=True)
class WorkbookSheet:
    name: str
    state: str  # "visible", "hidden" or "veryHidden"
    part: str  # e.g. "xl/worksheets/sheet1.xml"


@dataclass(frozen=True, slots=True)
class Workbook:
    sheets: tuple[WorkbookSheet, ...]
    date1904: bool
    shared_strings_part: str | None
    styles_part: str | None

    @property
    def visible_sheet_names(self) -> tuple[str, ...]:
        return tuple(sheet.name for sheet in self.sheets if sheet.state == "visible")


def read_workbook(archive: zipfile.ZipFile) -> Workbook:
    targets: dict[str, tuple[str, str]] = {}  # relationship id → (type, part)
    if _WORKBOOK_RELS in archive.namelist():
        for rel in read_small_part(archive, _WORKBOOK_RELS):
            kind = rel.get("Type", "").rpartition("/")[2]
            targets[rel.get("Id", "")] = (kind, _resolve(rel.get("Target", "")))
    root = read_small_part(archive, WORKBOOK_PART)
    sheets = []
    date1904 = False
    for element in root.iter():
        tag = local_name(element.tag)
        if tag == "workbookPr":
            date1904 = element.get("date1904", "false").lower() in ("1", "true")
        elif tag == "sheet":
            rel_id = element.get(f"{{{_REL_NS}}}id") or element.get(f"{{{_STRICT_REL_NS}}}id")
            kind, part = targets.get(rel_id or "", ("", ""))
            if kind == "worksheet" and part in archive.NameToInfo:
                state = element.get("state", "visible")
                sheets.append(WorkbookSheet(element.get("name", ""), state, part))
    by_kind = {kind: part for kind, part in targets.values()}
    return Workbook(
        sheets=tuple(sheets),
        date1904=date1904,
        shared_strings_part=_existing(archive, by_kind.get("sharedStrings")),
        styles_part=_existing(archive, by_kind.get("styles")),
    )


def _resolve(target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target))


def _existing(archive: zipfile.ZipFile, part: str | None) -> str | None:
    return part if part and part in archive.NameToInfo else None


@dataclass(frozen=True, slots=True)
class DateStyles:
    """Cell style indexes (the `s` attribute) whose number format shows a date or time;
    durations ([h]:mm) are left as numbers."""

    dates: frozenset[int]


def read_date_styles(archive: zipfile.ZipFile, part: str | None) -> DateStyles:
    if part is None:
        return DateStyles(frozenset())
    root = read_small_part(archive, part)
    custom: dict[int, str] = {}
    cell_formats: list[int] = []
    for element in root.iter():
        tag = local_name(element.tag)
        if tag == "numFmt":
            custom[_int(element.get("numFmtId"))] = element.get("formatCode", "")
        elif tag == "cellXfs":
            cell_formats = [_int(xf.get("numFmtId")) for xf in element]
    dates = set()
    for style, format_id in enumerate(cell_formats):
        code = custom.get(format_id) or BUILTIN_FORMATS.get(format_id, "General")
        if is_date_format(code) and not is_timedelta_format(code):
            dates.add(style)
    return DateStyles(frozenset(dates))


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


class SharedStrings:
    """The workbook's shared strings, held compactly: blocks of concatenated text with
    offsets (a few bytes per string instead of a Python object each), so that a sheet
    of millions of distinct strings costs about its text."""

    _BLOCK = 4096

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._starts: list[array[int]] = []
        self._pending: list[str] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < self._count:
            raise FileRejected("corrupt_file", detail=f"shared string {index} missing")
        block, at = divmod(index, self._BLOCK)
        if block == len(self._blocks):
            return self._pending[at]
        starts = self._starts[block]
        return self._blocks[block][starts[at] : starts[at + 1]]

    def append(self, text: str) -> None:
        self._pending.append(text)
        self._count += 1
        if len(self._pending) == self._BLOCK:
            self._seal()

    def _seal(self) -> None:
        starts = array("Q", [0])
        total = 0
        for text in self._pending:
            total += len(text)
            starts.append(total)
        self._blocks.append("".join(self._pending))
        self._starts.append(starts)
        self._pending = []


def read_shared_strings(archive: zipfile.ZipFile, part: str | None) -> SharedStrings:
    strings = SharedStrings()
    if part is None:
        return strings
    parser = expat_parser()
    texts: list[str] = []
    state = {"collect": False, "phonetic": 0}

    def start(name: str, _attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "t":
            state["collect"] = not state["phonetic"]
        elif tag == "si":
            texts.clear()
        elif tag == "rPh":  # phonetic guide (Japanese): not part of the value
            state["phonetic"] += 1

    def end(name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "t":
            state["collect"] = False
        elif tag == "si":
            # Text is stored ST_Xstring-escaped (`_xHHHH_`), as Excel writes it.
            strings.append(decode_xstring("".join(texts)))
        elif tag == "rPh":
            state["phonetic"] -= 1

    def characters(text: str) -> None:
        if state["collect"]:
            texts.append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    feed_part(archive, part, parser)
    return strings
