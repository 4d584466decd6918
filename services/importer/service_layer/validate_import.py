"""The validation run (on the importer's internal `contacts.import.validate` command):
the file streamed from object storage through the domain's validator in batches, each
batch's contacts looked up in one call, feedback and planned changes stored with COPY.
A redelivered command starts over (previous results are deleted first)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Iterator
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
from services.importer.domain.validation import SheetValidator
from services.importer.domain.validation_setup import ValidationSetup
from services.importer.service_layer.announcements import Announcer
from services.importer.service_layer.confirm_import import options_from_json
from services.importer.service_layer.messages_text import text
from services.importer.service_layer.ports import ContactsGateway, FileStore
from shared.contacts_api import AccountContext, BulkApplyRow, ContactLookup
from shared.contacts_client import UnknownAccount
from shared.events import ValidateImport
from shared.kafka import PoisonMessage

log = logging.getLogger(__name__)

VALIDATION_BATCH_ROWS = 1000
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
        )
        validator = SheetValidator(setup)
        seq = 0
        with tempfile.TemporaryDirectory(prefix="validate-", dir=self.temp_dir) as tmp:
            local = Path(tmp) / "upload"
            await self.store.download_to_file(record.object_key, local)
            reader = await asyncio.to_thread(open_sheet, local, sheet_name=record.sheet_name, limits=self.limits)
            try:
                rows = reader.rows()
                while batch := await asyncio.to_thread(_take, rows, self.batch_rows):
                    request = validator.begin_batch(batch)
                    lookup = (
                        await self.contacts.lookup(record.account_id, request)
                        if request.ids or request.emails
                        else ContactLookup(contacts=[])
                    )
                    verdict = await asyncio.to_thread(validator.judge_batch, lookup)
                    items = [_feedback_row(seq + i, item) for i, item in enumerate(verdict.feedback)]
                    seq += len(items)
                    await self.results.write_batch(run, items, [_plan_row(p) for p in verdict.planned])
            finally:
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
