"""The importer's events, each published once: the job row says which were published
(flag columns), and a handler that finds an outcome recorded but not announced (the
process died between the two) announces it."""

from __future__ import annotations

from dataclasses import dataclass

from services.importer.adapters.import_repository import ImportRecord, ImportRepository
from services.importer.service_layer.ports import PublishEvent
from shared import topics
from shared.events import (
    ImportColumn,
    ImportFailed,
    ImportFinished,
    ImportPrepared,
    ImportProgress,
    ImportValidated,
)


@dataclass
class Announcer:
    repository: ImportRepository
    publish: PublishEvent

    async def prepared(self, record: ImportRecord) -> None:
        columns = [
            ImportColumn(
                index=c["index"],
                header=c["header"],
                letter=c.get("letter"),
                suggested_field=c.get("suggested_field"),
            )
            for c in record.columns
        ]
        data = ImportPrepared(
            account_id=record.account_id,
            import_id=record.import_id,
            file_name=record.file_name,
            row_count=record.row_count or 0,
            columns=columns,
        )
        await self.publish(topics.IMPORT_PREPARED, str(record.import_id), data)
        await self.repository.mark_published(record.import_id, "prepared_published")

    async def validated(self, record: ImportRecord) -> None:
        data = ImportValidated(
            account_id=record.account_id,
            import_id=record.import_id,
            rows_total=record.rows_total or 0,
            errors=record.errors or 0,
            warnings=record.warnings or 0,
            ready_to_start=record.ready_to_start,
            to_create=record.to_create,
            to_update=record.to_update,
            unchanged=record.unchanged,
        )
        await self.publish(topics.IMPORT_VALIDATED, str(record.import_id), data)
        await self.repository.mark_published(record.import_id, "validated_published")

    async def outcome(self, record: ImportRecord) -> None:
        """`contacts.import.finished` or `contacts.import.failed`, as recorded."""
        job_id = str(record.import_id)
        if record.state == "failed":
            await self.publish(
                topics.IMPORT_FAILED,
                job_id,
                ImportFailed(
                    account_id=record.account_id,
                    import_id=record.import_id,
                    code=record.error_code or "import_failed",
                    message=record.error_message or "",
                ),
            )
        else:
            await self.publish(
                topics.IMPORT_FINISHED,
                job_id,
                ImportFinished(
                    account_id=record.account_id,
                    import_id=record.import_id,
                    created=record.applied_created,
                    updated=record.applied_updated,
                    unchanged=record.applied_unchanged,
                    skipped=record.applied_skipped,
                    failed=record.applied_failed,
                ),
            )
        await self.repository.mark_published(record.import_id, "outcome_published")

    async def progress(self, record: ImportRecord, rows_done: int, rows_total: int) -> None:
        data = ImportProgress(
            account_id=record.account_id, import_id=record.import_id, rows_done=rows_done, rows_total=rows_total
        )
        await self.publish(topics.IMPORT_PROGRESS, str(record.import_id), data)
