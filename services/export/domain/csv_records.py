"""The contacts service's CSV rows made into the export file's records.

The contacts service sends each contact's CSV row as PostgreSQL's COPY CSV writes it
(the csv-rows route of shared/contacts_api.py): cells already quoted exactly as Python's
csv.QUOTE_MINIMAL quotes them, but every row ended by LF, where the export's files end
rows with CRLF (Excel, RFC 4180). A LF inside a quoted cell belongs to the cell and stays.

Quotes tell the two apart: every `"` of COPY's output opens or closes a quoted cell or
is half of a doubled `""` inside one, so the text between the n-th and the (n+1)-th `"`
is outside quotes when n is even. Splitting on `"` and rewriting only the outside parts
works at C speed on whole chunks (a row needs no Python step of its own), and a chunk
may end anywhere: whether it ends inside quotes is carried over to the next.
"""

from __future__ import annotations


class IncompleteCsvRows(ValueError):
    """The rows ended inside a quoted cell or without a final line end: the stream was
    cut short."""


class CsvRecordEnds:
    """Turns COPY CSV output, chunk by chunk, into CRLF-ended records; `rows` counts the
    records seen so far."""

    def __init__(self) -> None:
        self.rows = 0
        self._in_quotes = False
        self._last_byte = b"\n"

    def convert(self, chunk: bytes) -> bytes:
        if not chunk:
            return chunk
        self._last_byte = chunk[-1:]
        if not self._in_quotes and b'"' not in chunk:
            self.rows += chunk.count(b"\n")
            return chunk.replace(b"\n", b"\r\n")
        parts = chunk.split(b'"')
        first_outside = 1 if self._in_quotes else 0
        for index in range(first_outside, len(parts), 2):
            part = parts[index]
            if b"\n" in part:
                self.rows += part.count(b"\n")
                parts[index] = part.replace(b"\n", b"\r\n")
        # The last part is outside quotes when it has the parity of the first outside one.
        self._in_quotes = (len(parts) - 1 - first_outside) % 2 == 1
        return b'"'.join(parts)

    def finish(self) -> None:
        """Raises IncompleteCsvRows unless the rows ended where a record ends."""
        if self._in_quotes or self._last_byte != b"\n":
            raise IncompleteCsvRows("the CSV rows stopped in the middle of a row")
