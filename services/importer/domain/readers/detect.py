"""What kind of file an upload is, from its content (users rename files; tools export
HTML as ".xls"), refusing what no reader should open."""

from __future__ import annotations

import mmap
import os
import re
import zipfile
from pathlib import Path

import xlrd.compdoc

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.csv_encoding import bom_encoding, reject_non_text
from services.importer.domain.readers.limits import ReaderLimits
from services.importer.domain.readers.zip_guard import open_guarded_zip
from services.importer.domain.sheet import FileFormat

_HEAD_BYTES = 64 * 1024
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OTHER_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7-Zip archive"),
)
# Web pages and Excel 2003 XML that tools save with an .xls name.
_MARKUP_XLS = re.compile(
    rb"^\s*(<!doctype\s+html|<html|<table|<\?xml[^>]*>\s*(<\?mso-application[^>]*>\s*)?"
    rb"(<!--.*?-->\s*)*<(ss:)?workbook|<\?xml[^>]*>\s*<html)",
    re.IGNORECASE | re.DOTALL,
)
_SPREADSHEETML_2003 = b"urn:schemas-microsoft-com:office:spreadsheet"
_MAIN_WORKBOOK = "xl/workbook.xml"


def detect_format(path: str | os.PathLike[str], limits: ReaderLimits | None = None) -> FileFormat:
    """XLSX/XLSM, XLS or CSV, or FileRejected (empty, binary, HTML-as-XLS, encrypted,
    zip bomb, another kind of zip or document)."""
    limits = limits or ReaderLimits()
    path = Path(path)
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
    if not head:
        raise FileRejected("empty_file")
    if head.startswith(_ZIP_MAGIC):
        _check_xlsx_package(path, limits)
        return FileFormat.XLSX
    if head.startswith(_OLE2_MAGIC):
        return _check_ole2(path)
    for magic, kind in _OTHER_FORMATS:
        if head.startswith(magic):
            raise FileRejected("not_a_spreadsheet", detail=kind)
    encoding = bom_encoding(head)
    text_head = _ascii_view(head, encoding)
    if _MARKUP_XLS.match(text_head) or _SPREADSHEETML_2003 in text_head[:4096]:
        raise FileRejected("xls_is_html")
    if encoding is None:
        reject_non_text(head)
    return FileFormat.CSV


def _ascii_view(head: bytes, encoding: str | None) -> bytes:
    # Markup is looked for in ASCII; a UTF-16 page is narrowed to it first.
    if encoding in ("utf-16", "utf-32"):
        text = head[:8192].decode(encoding, errors="ignore")
        return text.encode("ascii", errors="ignore")
    return head.removeprefix(b"\xef\xbb\xbf")


def _check_xlsx_package(path: Path, limits: ReaderLimits) -> None:
    with open_guarded_zip(path, limits) as archive:
        names = set(archive.namelist())
        if _MAIN_WORKBOOK in names:  # every writer seen puts the workbook there
            return
        raise FileRejected("not_a_spreadsheet", detail=_zip_kind(archive, names))


def _zip_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "mimetype" in names:
        info = archive.getinfo("mimetype")
        if info.file_size < 200:
            mimetype = archive.read(info).decode("ascii", errors="replace")
            if "opendocument.spreadsheet" in mimetype:
                return "OpenDocument .ods"
            return mimetype
    if "word/document.xml" in names:
        return "Word document"
    if "ppt/presentation.xml" in names:
        return "PowerPoint presentation"
    return "zip archive"


def _check_ole2(path: Path) -> FileFormat:
    streams = ole2_stream_names(path)
    if {"EncryptionInfo", "EncryptedPackage"} & streams:
        raise FileRejected("password_protected")
    if {"Workbook", "Book"} & streams:
        return FileFormat.XLS
    raise FileRejected("not_a_spreadsheet", detail="Office document that is not Excel")


def ole2_stream_names(path: Path) -> set[str]:
    """Names in an OLE2 compound file's directory (the file is mapped, not read)."""
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mem:
        try:
            document = xlrd.compdoc.CompDoc(mem, logfile=_Discard())
        except Exception as error:  # xlrd raises anything on a broken directory
            raise FileRejected("corrupt_file", detail=f"OLE2: {error}") from error
        return {node.name for node in document.dirlist}


class _Discard:
    """xlrd prints warnings to a log file; they are not the user's business."""

    def write(self, text: str) -> int:
        return len(text)
