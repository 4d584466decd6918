"""A streaming CSV encoder: contacts in, bytes chunks out, never the whole file in memory.

pt-BR files open in columns in a Brazilian Excel: `;` separator (the list separator of
that locale), UTF-8 with a BOM (Excel reads a BOM-less CSV as Windows-1252) and CRLF line
ends. en files use `,` and the same encoding. Every text cell, headers included, passes
through shared.cells.escape_formula; numbers, dates and booleans that the exporter formats
itself are not text and are written as they are (a negative number must stay a number).

The export service's CSV rows are formatted by PostgreSQL instead (csv_plan.py, and
services/contacts/domain/csv_rendition.py): this writer is the reference those rows are
proven byte-equal to, and what tools that make files from contacts in hand use (the
importer's benches). The header line (`csv_header`) is the service's too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from services.export.domain.cell_values import CellReader, Contact, text_formatters
from services.export.domain.columns import ExportColumn, normalize_locale
from services.export.domain.errors import IllegalCharacterError
from shared.cells import FORMULA_TRIGGERS, escape_formula, unescape_formula
from shared.contacts_api import AccountContext
from shared.events import Locale

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
UTF8_BOM = "\ufeff"
DEFAULT_CHUNK_SIZE = 1 << 20
# escape_formula changes only text that starts with one of these: checking the first
# character inline saves a call for nearly every cell.
_MAY_NEED_ESCAPING = FORMULA_TRIGGERS | {"'"}


def csv_delimiter(locale: str) -> str:
    return "," if locale == Locale.EN else ";"


def csv_header(columns: Sequence[ExportColumn], locale: str | None = None) -> str:
    """The start of every CSV export: the BOM and the header line (headers are text:
    escaped like any cell)."""
    line = io.StringIO()
    csv.writer(line, delimiter=csv_delimiter(normalize_locale(locale)), lineterminator="\r\n").writerow(
        [escape_formula(column.header) for column in columns]
    )
    return UTF8_BOM + line.getvalue()


class CsvExportWriter:
    """Encodes one export as CSV.

    Push-style so that an async service can feed it batches as they arrive:
    `write_rows(batch)` returns the chunks that are full (each about `chunk_size` bytes,
    possibly none), `close()` returns the rest. The header is written at construction.
    """

    file_extension = "csv"
    content_type = CSV_CONTENT_TYPE

    def __init__(
        self,
        columns: Sequence[ExportColumn],
        context: AccountContext,
        locale: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self.locale = normalize_locale(locale)
        self.columns = tuple(columns)
        self.rows_written = 0
        self.bytes_written = 0
        self._reader = CellReader(self.columns, context)
        self._chunk_size = chunk_size
        self._formatters = text_formatters(self.locale)
        self._buffer = io.StringIO()
        self._csv = csv.writer(
            self._buffer,
            delimiter=csv_delimiter(self.locale),
            quotechar='"',
            quoting=csv.QUOTE_MINIMAL,
            lineterminator="\r\n",
        )
        self._buffer.write(csv_header(self.columns, self.locale))
        self._closed = False

    def write_rows(self, contacts: Iterable[Contact]) -> list[bytes]:
        chunks: list[bytes] = []
        buffer, writerow = self._buffer, self._csv.writerow
        readers, formatters = self._reader.readers, self._formatters
        risky = _MAY_NEED_ESCAPING
        limit = self._chunk_size
        for contact in contacts:
            # One comprehension per row (this is the hot loop): text is escaped only when
            # its first character asks for it, None is empty, other types are formatted.
            writerow(
                [
                    (escape_formula(value) if value[:1] in risky else value)
                    if (value := read(contact)).__class__ is str
                    else ""
                    if value is None
                    else formatters[value.__class__](value)
                    for read in readers
                ]
            )
            self.rows_written += 1
            if buffer.tell() >= limit:
                chunks.append(self._drain())
        return chunks

    def close(self) -> list[bytes]:
        if self._closed:
            return []
        self._closed = True
        rest = self._drain()
        return [rest] if rest else []

    def _drain(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        try:
            chunk = text.encode("utf-8")
        except UnicodeEncodeError as error:
            # Only an unpaired surrogate cannot be encoded; the contacts service's JSON
            # cannot carry one, so this is rare enough to locate it after the fact.
            raise self._locate_unencodable(text, error) from error
        self.bytes_written += len(chunk)
        return chunk

    def _locate_unencodable(self, text: str, error: UnicodeEncodeError) -> IllegalCharacterError:
        character = error.object[error.start]
        delimiter = csv_delimiter(self.locale)
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            for index, cell in enumerate(row):
                if character in cell:
                    column = self.columns[index]
                    contact_id = unescape_formula(row[0]) if row else "?"
                    return IllegalCharacterError(contact_id, column.key, column.header, character)
        return IllegalCharacterError("?", "?", "?", character)


def iter_csv_chunks(
    columns: Sequence[ExportColumn],
    context: AccountContext,
    contacts: Iterable[Contact],
    locale: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterable[bytes]:
    """The whole CSV file as chunks, for a caller that holds a plain iterable of contacts."""
    writer = CsvExportWriter(columns, context, locale, chunk_size)
    yield from writer.write_rows(contacts)
    yield from writer.close()
