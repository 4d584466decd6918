"""Which text encoding a CSV is in, from its bytes (pt-BR Excel and LibreOffice save
Windows-1252, UTF-8 with or without BOM, or "Unicode text": UTF-16 LE with BOM)."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from services.importer.domain.file_errors import FileRejected

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 before UTF-16: the UTF-32 LE BOM starts with the UTF-16 LE one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Bytes that no text file holds (tab, newlines, form feed and Ctrl-Z excepted).
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 26), *range(27, 32)])
_BINARY_CONTROL_RATIO = 0.05
_MIN_BINARY_CONTROLS = 8
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_SCAN_CHUNK = 1024 * 1024
_DECIDE_WINDOW = 64 * 1024
# Bytes Windows-1252 leaves undefined: Python's cp1252 refuses them; Latin-1 never does.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")

# Decoding marks an undecodable byte with a lone surrogate, which no strict decoder ever
# yields, so the CSV reader can name the row that holds it instead of failing on
# whichever chunk the decoder happened to be reading ahead.
INVALID_TEXT_MARK = "\udc00"
_ERROR_HANDLER = "crm_bulk_mark_invalid"


def _mark_invalid(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return INVALID_TEXT_MARK, error.end


codecs.register_error(_ERROR_HANDLER, _mark_invalid)
DECODE_ERRORS = _ERROR_HANDLER


def bom_encoding(head: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return None


def reject_non_text(head: bytes) -> None:
    """Raises when the first bytes of a BOM-less file cannot be CSV text."""
    sample = head[:8192]
    if not sample:
        return
    if _looks_like_utf16_without_bom(sample):
        raise FileRejected("invalid_encoding", detail="UTF-16 without byte-order mark")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    # A few stray control bytes in a short text are a text problem (reported at their
    # row, e.g. NUL), not a binary file.
    if controls > max(_MIN_BINARY_CONTROLS, _BINARY_CONTROL_RATIO * len(sample)):
        raise FileRejected("binary_file")


def _looks_like_utf16_without_bom(sample: bytes) -> bool:
    pairs = len(sample) // 2
    if pairs < 2:
        return False
    nul_even = sample[0 : pairs * 2 : 2].count(0) / pairs
    nul_odd = sample[1 : pairs * 2 : 2].count(0) / pairs
    # Latin text in UTF-16 has a NUL in (nearly) every other byte, on one side only.
    return max(nul_even, nul_odd) > 0.3 and min(nul_even, nul_odd) < 0.05


def detect_encoding(path: Path, head: bytes) -> str:
    """A Python codec name for the file. Without a BOM the first non-ASCII bytes decide:
    valid UTF-8 there means UTF-8 (a bad byte later is reported at its row), otherwise
    Windows-1252 (pt-BR Excel's "CSV (separado por vírgulas)")."""
    encoding = bom_encoding(head)
    if encoding:
        return encoding
    window = _window_from_first_non_ascii(path)
    if window is None:
        return "utf-8"  # all ASCII
    try:
        codecs.getincrementaldecoder("utf-8")().decode(window, final=False)
        return "utf-8"
    except UnicodeDecodeError as error:
        if not window[: error.start].isascii():
            return "utf-8"  # UTF-8 text with a bad byte: the reader names its row
    return "latin-1" if _CP1252_UNDEFINED.search(window) else "cp1252"


def _window_from_first_non_ascii(path: Path) -> bytes | None:
    # A scan for the first byte >= 0x80 runs at memory speed; the file is not held.
    with path.open("rb") as file:
        offset = 0
        while chunk := file.read(_SCAN_CHUNK):
            found = _NON_ASCII.search(chunk)
            if found:
                file.seek(offset + found.start())
                return file.read(_DECIDE_WINDOW)
            offset += len(chunk)
    return None


def display_name(encoding: str) -> str:
    """The encoding as SheetInfo reports it."""
    return {"utf-8-sig": "utf-8-bom", "utf-16": "utf-16", "utf-32": "utf-32"}.get(encoding, encoding)
