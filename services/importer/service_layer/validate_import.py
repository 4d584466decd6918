"""The validation run (on the importer's internal `contacts.import.validate` command):
the file streamed from object storage through the domain's validator in batches, each
batch's contacts looked up in one call, feedback and planned changes stored with COPY.
A redelivered command starts over (previous results are deleted first)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from services.importer.adapters.import_repository import ImportRecord, ImportRepository
from services.importer.adapters.validation_store import ValidationRun, ValidationStore, ValidationSuperseded, json_text
from services.importer.domain.feedback import FeedbackItem
from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers import ReaderLimits, open_sheet
from services.importer.domain.sheet import RawRow
from services.importer.domain.validation import PendingBatch, SheetValidator, merged
from services.importer.domain.validation_setup import ValidationSetup
from services.importer.service_layer.announcements import Announcer
from services.importer.service_layer.confirm_import import options_from_json
from services.importer.service_layer.dropped_tasks import drop
from services.importer.service_layer.messages_text import text
from services.importer.service_layer.phase_clock import PhaseClock
from services.importer.service_layer.ports import ContactsGateway, FileStore
from shared.contacts_api import AccountContext, BulkApplyRow, ContactLookup
from shared.contacts_client import UnknownAccount
from shared.events import ValidateImport
from shared.kafka import PoisonMessage

log = logging.getLogger(__name__)

VALIDATION_BATCH_ROWS = 1000
# Batches read and looked up ahead of the one being judged (each a task of its own).
# One ahead is what measured fastest on the bench box (2 vCPUs shared by the importer,
# the contacts service and PostgreSQL): with two, three lookups ran at once while the
# current one was awaited, their answers were parsed while the next batch was read and
# judged, and validation took 20-23 s instead of 14-17 s for 200k rows: the lookups are
# bound by CPU there, not by latency. More may pay where the contacts service and its
# database have cores of their own. Each batch ahead holds its rows and its lookup's
# answer: a few MiB for 1,000 rows of 20 columns (no change in peak RSS was measured).
LOOKUPS_IN_FLIGHT = 1
# Runs that ended in a transient error (contacts service, S3 or database unreachable,
# the process killed) before the import is failed rather than retried.
MAX_ATTEMPTS = 5


@dataclass
class ValidateImportHandler:
    repository: ImportRepository
    results: ValidationStore
    store: FileStore
    contacts: ContactsGateway
    announcer: Announcer
    limits: ReaderLimits
    batch_rows: int = VALIDATION_BATCH_ROWS
    temp_dir: str | None = None
    lookups_in_flight: int = LOOKUPS_IN_FLIGHT

    async def handle(self, command: ValidateImport) -> None:
        record = await self.repository.get(command.account_id, command.import_id)
        if record is None:
            # CONTRACT.md: a command naming no import of this account (another account's
            # id, a typo) goes to the dead letters, with a failed event for its id.
            raise PoisonMessage(
                "unknown_import", f"import {command.import_id} does not exist in account {command.account_id}"
            )
        if record.confirm_version != command.confirm_version:
            return  # re-confirmed since: that confirm's command does the work
        if record.state == "validated":
            if not record.validated_published:
                await self.announcer.validated(record)
            return
        if record.state == "failed" and not record.outcome_published:
            await self.announcer.outcome(record)
        if record.state != "validating":
            return
        if record.validation_attempt >= MAX_ATTEMPTS:
            await self._fail(record, "validation_retries_exhausted", text("retries_exhausted", record.locale))
            return
        run = await self.results.begin(record.import_id, command.confirm_version)
        if run is None:
            return
        try:
            account = await self.contacts.account_context(record.account_id)
            await self._validate(record, run, account)
        except UnknownAccount:
            await self._fail(record, "unknown_account", text("unknown_account", record.locale))
        except FileRejected as rejection:
            await self._fail(record, rejection.code, rejection.message(record.locale), rejection.row, rejection.column)
        except ValidationSuperseded:
            log.info("import %s: validation superseded by a newer run", record.import_id)

    async def _validate(self, record: ImportRecord, run: ValidationRun, account: AccountContext) -> None:
        setup = ValidationSetup(
            account=account,
            columns=record.columns_by_index,
            headers=record.header,
            with_letters=not record.is_csv,
            sheet_locale=record.sheet_locale or account.locale,
            options=options_from_json(record.options),
            text_cells=record.is_csv,
        )
        validator = SheetValidator(setup)
        clock = PhaseClock()
        seq = 0
        with tempfile.TemporaryDirectory(prefix="validate-", dir=self.temp_dir) as tmp:
            local = Path(tmp) / "upload"
            with clock.phase("download"):
                await self.store.download_to_file(record.object_key, local)
            reader = await asyncio.to_thread(open_sheet, local, sheet_name=record.sheet_name, limits=self.limits)
            rows = reader.rows()

            async def next_batch() -> PendingBatch | None:
                with clock.phase("read"):
                    raw = await asyncio.to_thread(_take, rows, self.batch_rows)
                return validator.begin_batch(raw) if raw else None

            # Up to `lookups_in_flight` batches are read and looked up ahead while this
            # one is judged and stored (in sheet order: the validator requires it). The
            # store stays in line: overlapping it with the next judgement measured no
            # faster (the GIL: the judge thread and the event loop's COPY contend).
            lookups = _LookAhead(self.contacts, record.account_id, validator, clock, next_batch, self.lookups_in_flight)
            try:
                while (ready := await lookups.next()) is not None:
                    batch, lookup = ready
                    with clock.phase("judge"):
                        verdict = await asyncio.to_thread(validator.judge_batch, batch, lookup)
                        items = [_feedback_row(seq + i, item) for i, item in enumerate(verdict.feedback)]
                        planned = [_plan_row(p) for p in verdict.planned]
                    del batch, lookup, ready, verdict  # not kept in memory while the next is awaited
                    seq += len(items)
                    with clock.phase("store"):
                        await self.results.write_batch(run, items, planned)
            finally:  # on an error: the lookups still running are stopped, their outcome dropped
                lookups.cancel()
                reader.close()
        summary = validator.finish()
        items = [_feedback_row(seq + i, item) for i, item in enumerate(summary.feedback)]
        await self.results.write_batch(run, items, [])
        counts = summary.counts
        await self.results.finish(
            run,
            revoked_rows=summary.revoked_rows,
            counts={
                "rows": counts.rows,
                "errors": counts.errors,
                "warnings": counts.warnings,
                "rows_with_errors": counts.rows_with_errors,
                "to_create": counts.to_create,
                "to_update": counts.to_update,
                "unchanged": counts.unchanged,
                "skipped": counts.skipped,
                "field_changes": dict(counts.field_changes),
            },
            ready_to_start=summary.ready_to_start,
        )
        log.info("import %s: %d rows validated; %s", record.import_id, counts.rows, clock.summary())
        validated = await self.repository.get(record.account_id, record.import_id)
        assert validated is not None
        await self.announcer.validated(validated)

    async def _fail(
        self, record: ImportRecord, code: str, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        if await self.repository.mark_failed(
            record.import_id, code, message, row=row, column=column, from_states=("validating",)
        ):
            failed = await self.repository.get(record.account_id, record.import_id)
            assert failed is not None
            await self.announcer.outcome(failed)


class _LookAhead:
    """Batches read ahead, each looked up as a task of its own: up to `depth` lookups in
    flight while the batch that `next` returned is judged and stored. Batches come out in
    the order they were read; the next one is read while the current one's lookup runs."""

    def __init__(
        self,
        contacts: ContactsGateway,
        account_id: int,
        validator: SheetValidator,
        clock: PhaseClock,
        read: Callable[[], Awaitable[PendingBatch | None]],
        depth: int = LOOKUPS_IN_FLIGHT,
    ) -> None:
        self._contacts = contacts
        self._account_id = account_id
        self._validator = validator
        self._clock = clock
        self._read = read
        self._depth = max(1, depth)
        self._pending: deque[tuple[PendingBatch, asyncio.Task[ContactLookup]]] = deque()
        self._exhausted = False

    async def next(self) -> tuple[PendingBatch, ContactLookup] | None:
        """The next batch in sheet order with its lookup's answer; None at the end."""
        if not self._pending:
            await self._fill(self._depth)
            if not self._pending:
                return None
        batch, task = self._pending.popleft()
        try:
            await self._fill(self._depth)  # read the batch `depth` ahead while this lookup runs
        except BaseException:
            drop(task)  # `cancel` no longer sees it
            raise
        with self._clock.phase("waiting for lookups"):
            return batch, await task

    def cancel(self) -> None:
        for _, task in self._pending:
            drop(task)
        self._pending.clear()

    async def _fill(self, depth: int) -> None:
        while not self._exhausted and len(self._pending) < depth:
            batch = await self._read()
            if batch is None:
                self._exhausted = True
                return
            self._pending.append((batch, asyncio.create_task(self._lookup(batch))))

    async def _lookup(self, batch: PendingBatch) -> ContactLookup:
        request = batch.request
        if not (request.ids or request.emails):
            return ContactLookup(contacts=[])
        lookup = await self._contacts.lookup(self._account_id, request)
        if more := self._validator.follow_up(batch, lookup):
            lookup = merged(lookup, await self._contacts.lookup(self._account_id, more))
        return lookup


def _take(rows: Iterator[RawRow], n: int) -> list[RawRow]:
    return list(islice(rows, n))


def _feedback_row(seq: int, item: FeedbackItem) -> tuple[Any, ...]:
    return (
        seq,
        item.row_number,
        item.severity.value,
        item.code,
        item.column,
        item.header,
        item.field_key,
        item.value,
        json_text(dict(item.params)),
    )


def _plan_row(row: BulkApplyRow) -> tuple[Any, ...]:
    dumped = row.model_dump(mode="json")
    return (row.row_number, row.action.value, row.contact_id, json_text(dumped["values"]), row.expected_updated_at)
