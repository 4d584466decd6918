"""A streaming XLSX writer: contacts in, bytes chunks of a ZIP package out.

The package is written by `zipfile` into a sink that is write-only and not seekable,
so every entry carries a data descriptor after its data, and the bytes can go to an S3
multipart upload as they come. Memory is flat: one batch of rows, zlib's window, and the
chunk not yet handed out. Why our own writer, and the layout: docs/export-format.md.
"""

from __future__ import annotations

import contextlib
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime

from services.export.domain import xlsx_parts as parts
from services.export.domain.cell_values import CellReader, CellValue, Contact
from services.export.domain.columns import ExportColumn, normalize_locale
from services.export.domain.errors import (
    CellTooLongError,
    CellValueError,
    IllegalCharacterError,
    XlsxTooLargeError,
    XlsxTooManyRowsError,
)
from services.export.domain.xlsx_cells import (
    NEEDS_CARE,
    SHORT_TEXT_CHARS,
    XLSX_MAX_CELL_CHARS,
    CellProblem,
    IllegalCharacter,
    TextTooLong,
    cell_encoders,
    text_cell_xml,
)
from shared.contacts_api import AccountContext
from shared.events import Locale

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A sheet has 1,048,576 rows; the first is the header.
XLSX_MAX_CONTACTS = 1_048_575
XLSX_MAX_COLUMNS = 16_384
DEFAULT_CHUNK_SIZE = 1 << 20
# zipfile refuses an entry over 2 GiB - 1 without ZIP64, which we do not write (Excel's
# ZIP64 reader is strict about streamed entries); leave room for the sheet's closing XML.
MAX_SHEET_XML_BYTES = zipfile.ZIP64_LIMIT - (1 << 20)
# Rows are joined into one string of about this many characters per write: fewer, larger
# writes into the compressor, and a bound on memory whatever the rows hold.
_CHARS_PER_WRITE = 256 * 1024
# Level 1 compresses these sheets nearly as well as the default 6 and much faster.
DEFAULT_COMPRESS_LEVEL = 1


def data_sheet_name(locale: str) -> str:
    return "Contacts" if locale == Locale.EN else "Contatos"


def check_xlsx_row_count(contact_count: int) -> None:
    """Called by the service with the selection's count before anything is written."""
    if contact_count > XLSX_MAX_CONTACTS:
        raise XlsxTooManyRowsError(contact_count, XLSX_MAX_CONTACTS)


class _ChunkSink:
    """What zipfile writes into: no tell/seek, so zipfile streams with data descriptors."""

    def __init__(self) -> None:
        self.pending = bytearray()

    def write(self, data: bytes) -> int:
        self.pending += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        chunk = bytes(self.pending)
        self.pending.clear()
        return chunk


class XlsxExportWriter:
    """Encodes one export as XLSX; the same push-style interface as CsvExportWriter."""

    file_extension = "xlsx"
    content_type = XLSX_CONTENT_TYPE

    def __init__(
        self,
        columns: Sequence[ExportColumn],
        context: AccountContext,
        export_id: uuid.UUID | str,
        locale: str | None = None,
        created_at: datetime | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        compress_level: int = DEFAULT_COMPRESS_LEVEL,
    ) -> None:
        self.locale = normalize_locale(locale)
        self.columns = tuple(columns)
        if len(self.columns) >= XLSX_MAX_COLUMNS:  # the meta sheet needs one more column
            raise ValueError(f"an XLSX sheet holds fewer than {XLSX_MAX_COLUMNS} columns")
        self.export_id = str(uuid.UUID(str(export_id)))
        self.rows_written = 0
        self.bytes_written = 0
        self._reader = CellReader(self.columns, context)
        self._chunk_size = chunk_size
        self._encoders = cell_encoders(self.locale)
        self._last_column = parts.column_letter(len(self.columns) - 1)
        self._letters = tuple(parts.column_letter(i) for i in range(len(self.columns)))
        # Per column: `<c r="B` (the row number follows) and the style of its text cells.
        self._cell_starts = tuple(f'<c r="{letter}' for letter in self._letters)
        self._text_styles = tuple(
            f' s="{parts.STYLE_TEXT}"' if c.field.type in parts.TEXT_FORMAT_TYPES else "" for c in self.columns
        )
        self._sheet_xml_bytes = 0
        self._closed = False
        sheet_start = parts.data_sheet_start(self.columns) + self._header_row()
        self._sink = _ChunkSink()
        self._zip = zipfile.ZipFile(self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compress_level)
        self._write_fixed_parts(created_at)
        self._sheet = self._zip.open(parts.DATA_SHEET_PATH, "w")
        self._write_sheet_xml(sheet_start)

    def write_rows(self, contacts: Iterable[Contact]) -> list[bytes]:
        """Returns the chunks that are full (possibly none). After an error the writer is
        spent: the caller aborts its upload and reports the error."""
        try:
            return self._write_rows(contacts)
        except BaseException:
            self._abandon()
            raise

    def _write_rows(self, contacts: Iterable[Contact]) -> list[bytes]:
        chunks: list[bytes] = []
        batch: list[str] = []
        batch_chars = 0
        readers = self._reader.readers
        for contact in contacts:
            if self.rows_written >= XLSX_MAX_CONTACTS:
                raise XlsxTooManyRowsError(self.rows_written + 1, XLSX_MAX_CONTACTS)
            row_xml = self._row_xml(self.rows_written + 2, [read(contact) for read in readers], contact)
            batch.append(row_xml)
            batch_chars += len(row_xml)
            self.rows_written += 1
            if batch_chars >= _CHARS_PER_WRITE:
                self._write_sheet_xml("".join(batch))
                batch.clear()
                batch_chars = 0
                if len(self._sink.pending) >= self._chunk_size:
                    chunks.append(self._take())
        if batch:
            self._write_sheet_xml("".join(batch))
        if len(self._sink.pending) >= self._chunk_size:
            chunks.append(self._take())
        return chunks

    def close(self) -> list[bytes]:
        """Ends the sheet, writes the workbook (it names the autofilter's final range) and
        the ZIP central directory; returns the last chunks."""
        if self._closed:
            return []
        self._closed = True
        try:
            return self._finish()
        except BaseException:
            self._abandon()
            raise

    def _finish(self) -> list[bytes]:
        last_row = self.rows_written + 1
        self._write_sheet_xml(parts.data_sheet_end(self._last_column, last_row))
        self._sheet.close()
        self._write_part("xl/workbook.xml", parts.workbook(data_sheet_name(self.locale), self._last_column, last_row))
        self._write_part("xl/_rels/workbook.xml.rels", parts.workbook_relationships())
        self._zip.close()
        rest = self._take()
        return [rest] if rest else []

    def _row_xml(self, row_number: int, values: list[CellValue], contact: Contact) -> str:
        row = str(row_number)
        encoders, needs_care = self._encoders, NEEDS_CARE.search
        try:
            cells = [
                # Plain short text, the common case, is written inline: this comprehension
                # runs for every cell of the export.
                (
                    f'{start}{row}" t="inlineStr"{text_style}><is><t>{value}</t></is></c>'
                    if len(value) <= SHORT_TEXT_CHARS and needs_care(value) is None and len(value.strip()) == len(value)
                    else text_cell_xml(letter + row, value, text_style)
                )
                if value.__class__ is str
                else encoders[value.__class__](letter + row, text_style, value)
                for letter, start, text_style, value in zip(
                    self._letters, self._cell_starts, self._text_styles, values, strict=True
                )
                if value is not None
            ]
        except CellProblem as problem:
            raise self._cell_error(contact, values, problem) from problem
        return f'<row r="{row}">{"".join(cells)}</row>'

    def _abandon(self) -> None:
        """Releases the ZIP handles of a failed export, so that nothing complains later
        about a half-written entry; the bytes are dropped."""
        self._closed = True
        with contextlib.suppress(Exception):
            self._sheet.close()
        with contextlib.suppress(Exception):
            self._zip.close()
        self._sink.pending.clear()

    def _encode_cell(self, ref: str, text_style: str, value: CellValue) -> str:
        if isinstance(value, str):
            return text_cell_xml(ref, value, text_style)
        return self._encoders[type(value)](ref, text_style, value)

    def _cell_error(self, contact: Contact, values: list[CellValue], problem: CellProblem) -> CellValueError:
        # Find the column again: the hot loop keeps no index, and errors are rare.
        column = self.columns[0]
        for candidate, value in zip(self.columns, values, strict=True):
            try:
                if value is not None:
                    self._encode_cell("A1", "", value)
            except CellProblem:
                column = candidate
                break
        if isinstance(problem, IllegalCharacter):
            return IllegalCharacterError(contact.id, column.key, column.header, problem.character)
        assert isinstance(problem, TextTooLong)
        return CellTooLongError(contact.id, column.key, column.header, problem.length, XLSX_MAX_CELL_CHARS)

    def _header_row(self) -> str:
        style = f' s="{parts.STYLE_HEADER}"'
        cells = []
        for letter, column in zip(self._letters, self.columns, strict=True):
            try:
                cells.append(text_cell_xml(letter + "1", column.header, style))
            except CellProblem as problem:
                raise ValueError(f"header {column.header!r} cannot be stored: {problem!r}") from problem
        return '<row r="1">' + "".join(cells) + "</row>"

    def _write_fixed_parts(self, created_at: datetime | None) -> None:
        self._write_part("[Content_Types].xml", parts.content_types())
        self._write_part("_rels/.rels", parts.package_relationships())
        self._write_part("docProps/core.xml", parts.core_properties(created_at))
        self._write_part("docProps/app.xml", parts.app_properties())
        self._write_part("docProps/custom.xml", parts.custom_properties(self.export_id))
        self._write_part("xl/styles.xml", parts.styles(self.locale))
        field_keys = [column.key for column in self.columns]
        self._write_part(parts.META_SHEET_PATH, parts.meta_sheet(self.export_id, field_keys, text_cell_xml))

    def _write_part(self, path: str, xml: str) -> None:
        # open() rather than writestr(): entries get the fixed 1980-01-01 timestamp of a
        # fresh ZipInfo, so the same export always gives the same bytes.
        with self._zip.open(path, "w") as entry:
            entry.write(xml.encode("utf-8"))

    def _write_sheet_xml(self, xml: str) -> None:
        data = xml.encode("utf-8")
        self._sheet_xml_bytes += len(data)
        if self._sheet_xml_bytes > MAX_SHEET_XML_BYTES:
            raise XlsxTooLargeError(self.rows_written)
        self._sheet.write(data)

    def _take(self) -> bytes:
        chunk = self._sink.take()
        self.bytes_written += len(chunk)
        return chunk


def iter_xlsx_chunks(
    columns: Sequence[ExportColumn],
    context: AccountContext,
    contacts: Iterable[Contact],
    export_id: uuid.UUID | str,
    locale: str | None = None,
    created_at: datetime | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterable[bytes]:
    """The whole XLSX file as chunks, for a caller that holds a plain iterable of contacts."""
    writer = XlsxExportWriter(columns, context, export_id, locale, created_at, chunk_size)
    yield from writer.write_rows(contacts)
    yield from writer.close()
