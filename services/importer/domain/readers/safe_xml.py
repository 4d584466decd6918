"""XML parsers that refuse DTDs: no part of an OOXML package has one, and a DTD is how
entity expansion (billion laughs) and external entities (XXE) get in."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Never
from xml.etree.ElementTree import Element
from xml.parsers import expat

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.limits import MIB

# Workbook, relationships and styles parts are read whole; no real one comes close.
MAX_SMALL_PART_BYTES = 32 * MIB
STREAM_CHUNK_BYTES = 256 * 1024


class _DtdForbidden(Exception):
    pass


def _refuse_dtd(*_: object) -> Never:
    raise _DtdForbidden


def expat_parser() -> expat.XMLParserType:
    """A non-namespaced expat parser that raises on any DTD or entity declaration."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def feed_part(
    archive: zipfile.ZipFile,
    name: str,
    parser: expat.XMLParserType,
    after_chunk: Callable[[], None] = lambda: None,
) -> None:
    """Streams a part through `parser` in chunks, calling `after_chunk` after each one;
    every failure of the file is turned into FileRejected."""
    with translate_errors(name), archive.open(name) as part:
        while chunk := part.read(STREAM_CHUNK_BYTES):
            parser.Parse(chunk, False)
            after_chunk()
        parser.Parse(b"", True)
        after_chunk()


def read_small_part(archive: zipfile.ZipFile, name: str) -> Element:
    """Parses a part that is read whole (defusedxml: no entities, no external DTD)."""
    info = archive.getinfo(name)
    if info.file_size > MAX_SMALL_PART_BYTES:
        raise FileRejected("zip_bomb", detail=f"{name} of {info.file_size} bytes")
    with translate_errors(name):
        return defusedxml.ElementTree.fromstring(archive.read(info))  # type: ignore[no-any-return]


def local_name(tag: str) -> str:
    """The tag without its namespace or prefix ("x:row" and "{ns}row" → "row")."""
    return tag.rpartition("}")[2].rpartition(":")[2]


class translate_errors:
    """Turns what a broken or hostile package raises while a part is read into
    FileRejected("corrupt_file") naming the part."""

    def __init__(self, part: str) -> None:
        self._part = part

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _: object) -> None:
        if error is None or isinstance(error, FileRejected):
            return
        if isinstance(error, _DtdForbidden | DefusedXmlException):
            raise FileRejected("corrupt_file", detail=f"{self._part}: XML DTD/entities refused") from error
        if isinstance(
            error,
            expat.ExpatError
            | SyntaxError
            | zipfile.BadZipFile
            | zlib.error
            | EOFError
            | KeyError
            | ValueError
            | IndexError
            | OSError
            | NotImplementedError
            | RuntimeError
            | struct.error
            | OverflowError,
        ):
            raise FileRejected("corrupt_file", detail=f"{self._part}: {error}") from error
