"""The "prepare import" use case ("Preparar importação"): the upload streamed into
object storage, its sheet read and mapped, the job `prepared` (or `failed` for a file
the readers refuse). Nothing is written to contacts."""

from __future__ import annotations

import re
import tempfile
import unicodedata
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from services.importer.adapters.import_repository import ImportRecord, ImportRepository
from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers import ReaderLimits
from services.importer.service_layer.announcements import Announcer
from services.importer.service_layer.messages_text import text
from services.importer.service_layer.ports import ContactsGateway, FileStore
from services.importer.service_layer.sheet_analysis import analyse_upload
from shared.auth import Caller

MAX_FILE_NAME_CHARS = 200


class UploadTooLarge(Exception):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"upload over {limit_bytes} bytes")
        self.limit_bytes = limit_bytes

    def message(self, locale: str) -> str:
        return text("upload_too_large", locale, limit_mb=max(1, self.limit_bytes // (1024 * 1024)))


@dataclass(frozen=True, slots=True)
class Upload:
    """A file arriving in chunks; `file_name` and `form_value` read what the form says
    once the chunks are consumed (other fields may come after the file)."""

    file_name: Callable[[], str | None]
    chunks: AsyncIterable[bytes]
    form_value: Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Prepared:
    record: ImportRecord
    rejection: FileRejected | None


def upload_key(account_id: int, import_id: uuid.UUID) -> str:
    # Never derived from the user's file name: no path tricks, no collisions.
    return f"imports/{account_id}/{import_id}/upload"


def display_file_name(raw: str | None) -> str:
    """The uploaded name as data: its last path part, no control characters, bounded."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = " ".join(name.split())[:MAX_FILE_NAME_CHARS]
    return name or "upload"


@dataclass
class PrepareImport:
    repository: ImportRepository
    store: FileStore
    contacts: ContactsGateway
    announcer: Announcer
    limits: ReaderLimits
    max_upload_bytes: int
    temp_dir: str | None = None

    async def __call__(self, caller: Caller, upload: Upload, locale: str) -> Prepared:
        # Before reading the body: the account's fields are needed to map the headers,
        # and an unreachable contacts service should fail the request early.
        account = await self.contacts.account_context(caller.account_id)
        import_id = uuid.uuid4()
        key = upload_key(caller.account_id, import_id)
        with tempfile.TemporaryDirectory(prefix="import-", dir=self.temp_dir) as tmp:
            local = Path(tmp) / "upload"
            # The same bytes go to object storage (for any replica's later steps) and to
            # a local file (read now): the upload is never held in memory.
            with local.open("wb") as copy:
                stored = await self.store.upload_stream(key, self._limited(upload.chunks, copy))
            sheet_name = upload.form_value("sheet_name") or None
            await self.repository.create_uploaded(
                import_id,
                caller.account_id,
                caller.requested_by,
                display_file_name(upload.file_name()),
                key,
                stored.size,
                locale,
            )
            try:
                sheet = await analyse_upload(
                    local,
                    sheet_name,
                    self.limits,
                    account,
                    lambda signature: self.repository.remembered_mapping(caller.account_id, signature),
                )
            except FileRejected as rejection:
                await self.repository.mark_failed(
                    import_id, rejection.code, rejection.message(locale), row=rejection.row, column=rejection.column
                )
                record = await self._get(caller, import_id)
                await self.announcer.outcome(record)
                return Prepared(await self._get(caller, import_id), rejection)
        await self.repository.mark_prepared(import_id, sheet)
        record = await self._get(caller, import_id)
        await self.announcer.prepared(record)
        return Prepared(await self._get(caller, import_id), None)

    async def _limited(self, chunks: AsyncIterable[bytes], copy: BinaryIO) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > self.max_upload_bytes:
                raise UploadTooLarge(self.max_upload_bytes)
            copy.write(chunk)
            yield chunk

    async def _get(self, caller: Caller, import_id: uuid.UUID) -> ImportRecord:
        record = await self.repository.get(caller.account_id, import_id)
        assert record is not None
        return record
