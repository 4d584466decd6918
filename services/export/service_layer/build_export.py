"""The "build an export" use case: a request command in, a file in object storage and a
ready (or failed) event out. Safe to run again for the same request: a redelivered or
repeated command never makes a second file or a second outcome event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pydantic

from services.export.adapters.export_repository import ExportRecord, ExportRepository
from services.export.domain.columns import build_columns
from services.export.domain.csv_plan import csv_rows_plan
from services.export.domain.csv_records import CsvRecordEnds, IncompleteCsvRows
from services.export.domain.csv_writer import CSV_CONTENT_TYPE, csv_header
from services.export.domain.errors import ExportError, UnknownFieldsError
from services.export.domain.files import EXPORTS_PREFIX, export_file_name, export_object_key
from services.export.domain.xlsx_writer import XlsxExportWriter, check_xlsx_row_count
from shared import topics
from shared.contacts_api import StreamedContact
from shared.contacts_client import ContactsApiError, ContactsClient, UnknownAccount, UnknownFields
from shared.events import ExportFailed, ExportFormat, ExportReady, ExportRequested
from shared.kafka import PoisonMessage
from shared.s3 import ObjectStore

log = logging.getLogger(__name__)

# After this many runs that ended in a transient error (contacts service, S3 or the
# database unreachable, the process killed), the export is failed rather than retried.
MAX_ATTEMPTS = 5
# Contacts are encoded in batches between two awaits, so a big export never holds the
# event loop (and with it Kafka's heartbeats) for long. Small batches are also faster: a
# contact is some ten containers, and a batch that dies before the cyclic garbage
# collector's youngest generation fills (700 allocations) is never scanned by it, nor
# promoted to be scanned again (measured: ~15% of an export's CPU at 500 a batch).
ENCODE_BATCH = 50

PublishEvent = Callable[[str, str, pydantic.BaseModel], Awaitable[object]]


@dataclass
class ExportBuilder:
    repository: ExportRepository
    contacts: ContactsClient
    store: ObjectStore
    publish: PublishEvent  # (topic, job id, data)
    download_url_ttl: timedelta

    async def handle(self, request: ExportRequested) -> None:
        record = await self.repository.register(request)
        if record.account_id != request.account_id:
            # Another account already used this id: never touch its export.
            raise PoisonMessage("export_id_taken", f"export id {request.export_id} belongs to another account")
        # A repeat of the id is the same export: build what was registered first, whatever
        # this delivery's body says (a replica may deliver a later repeat first).
        request = _as_registered(record)
        if record.state in ("ready", "failed"):
            if not record.outcome_published:
                await self._announce(record)
            return
        if record.attempt >= MAX_ATTEMPTS:
            await self._fail(record, None, "export_retries_exhausted", _retries_message(record.locale))
            return
        attempt = await self.repository.claim(request.export_id)
        if attempt is None:  # an outcome was recorded meanwhile
            return
        try:
            await self._build(request, attempt)
        except UnknownFields as exc:
            error = UnknownFieldsError(exc.keys)
            await self._fail(record, attempt, error.code, error.message(request.locale.value))
        except ExportError as exc:
            await self._fail(record, attempt, exc.code, exc.message(request.locale.value))
        except UnknownAccount:
            message = _unknown_account_message(request.locale.value)
            await self._fail(record, attempt, "unknown_account", message)
            # CONTRACT.md: a command for an unknown account also goes to the dead letters.
            raise PoisonMessage("unknown_account", message, announce=False) from None

    async def _build(self, request: ExportRequested, attempt: int) -> None:
        context = await self.contacts.account_context(request.account_id)
        locale = request.locale.value
        columns = build_columns(context, locale, request.fields)
        if request.format is ExportFormat.XLSX:
            check_xlsx_row_count(await self.contacts.count_selection(request.account_id, request.selection))
        started = datetime.now(UTC)
        file_name = export_file_name(request.format, started, context.timezone, locale)
        key = export_object_key(request.account_id, request.export_id, file_name)
        if attempt > 1:
            # Earlier attempts killed mid-upload left their multipart uploads behind (parts
            # stored, never visible as a file): free them. The prefix holds this export's
            # files only, and an earlier attempt still running is fenced off by `attempt`.
            aborted = await self.store.abort_incomplete_uploads(key.rpartition("/")[0] + "/")
            if aborted:
                log.info("export %s: aborted %d unfinished upload(s) of earlier attempts", request.export_id, aborted)
        if request.format is ExportFormat.CSV:
            # PostgreSQL formats the rows (the contacts service renders the plan); here
            # only their line ends change, a chunk at a time.
            records = CsvRecordEnds()
            rows = self.contacts.stream_selection_csv(
                request.account_id, csv_rows_plan(request.selection, columns, context, locale)
            )
            chunks = csv_file_chunks(csv_header(columns, locale).encode(), rows, records)
            stored = await self.store.upload_stream(key, chunks, content_type=CSV_CONTENT_TYPE)
            row_count = records.rows
        else:
            encoder = XlsxExportWriter(columns, context, request.export_id, locale, created_at=started)
            contacts = self.contacts.stream_selection_fast(request.account_id, request.selection)
            stored = await self.store.upload_stream(
                key, _encoded_chunks(encoder, contacts), content_type=encoder.content_type
            )
            row_count = encoder.rows_written
        expires_at = datetime.now(UTC) + self.download_url_ttl
        url = self.store.presigned_get_url(key, self.download_url_ttl, file_name)
        ready = await self.repository.mark_ready(
            request.export_id,
            attempt,
            row_count=row_count,
            file_name=file_name,
            bucket=self.store.bucket,
            object_key=key,
            size_bytes=stored.size,
            download_url=url,
            download_expires_at=expires_at,
        )
        if not ready:
            log.warning("export %s: a newer run owns it; this run's file is left to it", request.export_id)
            return
        record = await self.repository.get(request.account_id, request.export_id)
        assert record is not None
        await self._announce(record)

    async def _fail(self, record: ExportRecord, attempt: int | None, code: str, message: str) -> None:
        if await self.repository.mark_failed(record.export_id, attempt, code, message):
            failed = await self.repository.get(record.account_id, record.export_id)
            assert failed is not None
            await self._announce(failed)

    async def _announce(self, record: ExportRecord) -> None:
        """Publishes the recorded outcome, then notes that it was published."""
        job_id = str(record.export_id)
        if record.state == "ready":
            assert record.download_expires_at is not None and record.download_url is not None
            await self.publish(
                topics.EXPORT_READY,
                job_id,
                ExportReady(
                    account_id=record.account_id,
                    export_id=record.export_id,
                    format=ExportFormat(record.format),
                    row_count=record.row_count or 0,
                    file_name=record.file_name or "",
                    bucket=record.bucket or "",
                    object_key=record.object_key or "",
                    size_bytes=record.size_bytes or 0,
                    download_url=record.download_url,
                    expires_at=record.download_expires_at,
                ),
            )
        else:
            await self.publish(
                topics.EXPORT_FAILED,
                job_id,
                ExportFailed(
                    account_id=record.account_id,
                    export_id=record.export_id,
                    code=record.error_code or "export_failed",
                    message=record.error_message or "",
                ),
            )
        await self.repository.mark_outcome_published(record.export_id)


def _as_registered(record: ExportRecord) -> ExportRequested:
    return ExportRequested(
        account_id=record.account_id,
        export_id=record.export_id,
        requested_by=record.requested_by,
        format=ExportFormat(record.format),
        selection=record.selection,
        fields=record.fields,
        locale=record.locale,
    )


async def csv_file_chunks(header: bytes, rows: AsyncIterator[bytes], records: CsvRecordEnds) -> AsyncIterator[bytes]:
    """The header, then the rows with CRLF line ends, a chunk of rows at a time. A stream
    that ends in the middle of a row is a broken one (ContactsApiError: the upload is
    abandoned and the export retried)."""
    yield header
    async for chunk in rows:
        yield records.convert(chunk)
    try:
        records.finish()
    except IncompleteCsvRows as error:
        raise ContactsApiError(None, f"contacts service stream broke: {error}") from error


async def _encoded_chunks(encoder: XlsxExportWriter, contacts: AsyncIterator[StreamedContact]) -> AsyncIterator[bytes]:
    batch: list[StreamedContact] = []
    async for contact in contacts:
        batch.append(contact)
        if len(batch) >= ENCODE_BATCH:
            for chunk in encoder.write_rows(batch):
                yield chunk
            batch.clear()
    for chunk in encoder.write_rows(batch):
        yield chunk
    for chunk in encoder.close():
        yield chunk


def _unknown_account_message(locale: str) -> str:
    if locale == "en":
        return "This account does not exist (any more): nothing was exported."
    return "Esta conta não existe (mais): nada foi exportado."


def _retries_message(locale: str) -> str:
    if locale == "en":
        return "The export failed several times in a row for a temporary reason; request it again."
    return "A exportação falhou várias vezes seguidas por um motivo temporário; solicite-a de novo."


async def abort_abandoned_uploads(store: ObjectStore, older_than: timedelta, prefix: str = f"{EXPORTS_PREFIX}/") -> int:
    """Aborts the unfinished multipart uploads of exports (under `prefix`) begun more
    than `older_than` ago; returns how many. A new attempt of an export frees its
    predecessors' uploads itself; this catches those of a last attempt that was killed
    and never followed (the export then fails with `export_retries_exhausted`, or no
    delivery ever comes)."""
    return await store.abort_incomplete_uploads(prefix, initiated_before=datetime.now(UTC) - older_than)


async def sweep_abandoned_uploads(store: ObjectStore, interval: timedelta, older_than: timedelta) -> None:
    """Forever, every `interval`: `abort_abandoned_uploads`."""
    while True:
        try:
            aborted = await abort_abandoned_uploads(store, older_than)
            if aborted:
                log.info("aborted %d abandoned export upload(s) older than %s", aborted, older_than)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("sweeping abandoned export uploads failed; will try again", exc_info=True)
        await asyncio.sleep(interval.total_seconds())
