"""Refuses zip bombs from the zip's directories alone, before a byte is inflated."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers.limits import MIB, ReaderLimits

_EOCD_SIGNATURE = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF
_MAX_CENTRAL_DIRECTORY_BYTES = 16 * MIB
_INFLATABLE = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})


def open_guarded_zip(path: Path, limits: ReaderLimits) -> zipfile.ZipFile:
    """Opens the zip once its directory says it is safe to inflate.

    zipfile parses the whole central directory into objects, so the end record's entry
    count and directory size are checked first: a zip of millions of tiny entries is
    refused before Python allocates an object for each. `ZipExtFile` never inflates
    past a member's declared size, so declared sizes are a real bound.
    """
    _check_end_record(path, limits)
    try:
        archive = zipfile.ZipFile(path)
    # NotImplementedError: a zip "version" or feature zipfile does not read.
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, EOFError, NotImplementedError) as error:
        raise FileRejected("corrupt_file", detail=f"zip: {error}") from error
    try:
        _check_members(archive, limits)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_end_record(path: Path, limits: ReaderLimits) -> None:
    size = path.stat().st_size
    with path.open("rb") as file:
        file.seek(max(0, size - _EOCD_SIZE - _MAX_COMMENT))
        tail = file.read()
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise FileRejected("corrupt_file", detail="zip directory missing: truncated file")
    entries, directory_bytes = struct.unpack_from("<HI", tail, at + 10)
    # 0xFFFF means "see the zip64 record": no spreadsheet needs that many parts.
    if entries >= min(limits.max_zip_members, 0xFFFF):
        raise FileRejected("zip_bomb", detail=f"{entries} zip entries")
    if directory_bytes > _MAX_CENTRAL_DIRECTORY_BYTES:
        raise FileRejected("zip_bomb", detail=f"zip directory of {directory_bytes} bytes")


def _check_members(archive: zipfile.ZipFile, limits: ReaderLimits) -> None:
    total = 0
    for member in archive.infolist():
        if member.flag_bits & 0x1:
            raise FileRejected("password_protected")
        if member.compress_type not in _INFLATABLE:
            raise FileRejected("corrupt_file", detail=f"unsupported compression in {member.filename}")
        total += member.file_size
        if total > limits.max_uncompressed_bytes:
            raise FileRejected("zip_bomb", detail=f"more than {_mib(total)} uncompressed")
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= limits.ratio_check_from_bytes and (ratio > limits.max_compression_ratio):
            raise FileRejected("zip_bomb", detail=f"{member.filename} compressed {ratio:.0f}:1")


def _mib(size: int) -> str:
    return f"{size / MIB:.0f} MiB"
