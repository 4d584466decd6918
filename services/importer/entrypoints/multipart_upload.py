"""A multipart/form-data request body read as a stream: the `file` part's bytes are
handed on chunk by chunk as they arrive (never whole in memory, never spooled to disk by
the framework); small text fields are kept for later."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

FILE_FIELD = "file"
MAX_TEXT_FIELD_BYTES = 64 * 1024


class MalformedUpload(Exception):
    pass


class StreamingFormUpload:
    """Iterate `file_chunks()` to the end; then `file_name` and `form_value()` are known.
    The file part must be there (MalformedUpload otherwise)."""

    def __init__(self, content_type: str, body: AsyncIterable[bytes]) -> None:
        kind, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise MalformedUpload("send the file as multipart/form-data, in a field named 'file'")
        self._body = body
        self._fields: dict[str, bytearray] = {}
        self._file_seen = False
        self.file_name: str | None = None
        # Per part being parsed:
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._part_name: str | None = None
        self._out: list[bytes] = []
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._on_part_begin,
                "on_part_data": self._on_part_data,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
            },
        )

    def form_value(self, name: str) -> str | None:
        value = self._fields.get(name)
        return value.decode("utf-8", errors="replace").strip() if value is not None else None

    async def file_chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._body:
            if not chunk:
                continue
            try:
                self._parser.write(chunk)
            except FormParserError as exc:
                raise MalformedUpload("the form is not valid multipart/form-data") from exc
            out, self._out = self._out, []
            for piece in out:
                yield piece
        try:
            self._parser.finalize()
        except FormParserError as exc:
            raise MalformedUpload("the form is not valid multipart/form-data") from exc
        if not self._file_seen:
            raise MalformedUpload("the form has no 'file' field")

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._part_name = None

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get("content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", errors="replace")
        self._part_name = name
        if name == FILE_FIELD:
            if self._file_seen:
                raise MalformedUpload("send one file per import")
            self._file_seen = True
            raw_name = params.get(b"filename")
            self.file_name = raw_name.decode("utf-8", errors="replace") if raw_name else None
        else:
            self._fields[name] = bytearray()

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part_name == FILE_FIELD:
            self._out.append(bytes(data[start:end]))
            return
        field = self._fields.get(self._part_name or "")
        if field is not None:
            if len(field) + (end - start) > MAX_TEXT_FIELD_BYTES:
                raise MalformedUpload(f"the form field '{self._part_name}' is too long")
            field += data[start:end]
