"""The import jobs table: one row per import, moved through its states by guarded
UPDATEs (a transition happens once, whoever tries it twice)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True, slots=True)
class ImportRecord:
    import_id: uuid.UUID
    account_id: int
    requested_by: str
    file_name: str
    object_key: str
    size_bytes: int
    locale: str
    state: str
    file_format: str | None
    sheet_name: str | None
    sheet_names: list[str]
    header: list[str]
    header_signature: str | None
    sheet_locale: str | None
    row_count: int | None
    columns: list[dict[str, Any]]
    mapping_feedback: list[dict[str, Any]]
    confirm_version: int
    confirmed_columns: dict[str, str] | None
    write_fields: list[str] | None
    tag: str | None
    options: dict[str, Any] | None
    validation_attempt: int
    rows_total: int | None
    errors: int | None
    warnings: int | None
    rows_with_errors: int | None
    to_create: int | None
    to_update: int | None
    unchanged: int | None
    conflicts_skipped: int | None
    field_changes: dict[str, int] | None
    ready_to_start: bool
    run_attempt: int
    owner: str | None
    lease_until: datetime | None
    batches_total: int | None
    batches_done: int
    rows_done: int
    applied_created: int
    applied_updated: int
    applied_unchanged: int
    applied_skipped: int
    applied_failed: int
    error_code: str | None
    error_message: str | None
    error_row: int | None
    error_column: str | None
    prepared_published: bool
    validated_published: bool
    outcome_published: bool
    created_at: datetime
    updated_at: datetime
    validated_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def is_csv(self) -> bool:
        return self.file_format == "csv"

    @property
    def columns_by_index(self) -> dict[int, str]:
        """The confirmed column index → field key mapping."""
        return {int(k): v for k, v in (self.confirmed_columns or {}).items()}


COLUMNS = ", ".join(ImportRecord.__dataclass_fields__)
TERMINAL_STATES = ("completed", "completed_with_errors", "failed")


def to_record(row: asyncpg.Record) -> ImportRecord:
    return ImportRecord(**{name: row[name] for name in ImportRecord.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class PreparedSheet:
    """What prepare read from the file, stored on the job."""

    file_format: str
    sheet_name: str | None
    sheet_names: list[str]
    header: list[str]
    header_signature: str
    sheet_locale: str
    row_count: int
    columns: list[dict[str, Any]]
    mapping_feedback: list[dict[str, Any]]


class ImportRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_uploaded(
        self,
        import_id: uuid.UUID,
        account_id: int,
        requested_by: str,
        file_name: str,
        object_key: str,
        size_bytes: int,
        locale: str,
    ) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                """
                INSERT INTO imports (import_id, account_id, requested_by, file_name, object_key, size_bytes, locale)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                import_id,
                account_id,
                requested_by,
                file_name,
                object_key,
                size_bytes,
                locale,
            )

    async def get(self, account_id: int, import_id: uuid.UUID) -> ImportRecord | None:
        """The import, only if it belongs to the account."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {COLUMNS} FROM imports WHERE import_id = $1 AND account_id = $2",
                import_id,
                account_id,
            )
        return to_record(row) if row else None

    async def list_newest_first(
        self, account_id: int, limit: int, before: tuple[datetime, uuid.UUID] | None = None
    ) -> list[ImportRecord]:
        async with self._pool.acquire() as conn:
            if before is None:
                rows = await conn.fetch(
                    f"""SELECT {COLUMNS} FROM imports WHERE account_id = $1
                        ORDER BY created_at DESC, import_id DESC LIMIT $2""",
                    account_id,
                    limit,
                )
            else:
                rows = await conn.fetch(
                    f"""SELECT {COLUMNS} FROM imports
                        WHERE account_id = $1 AND (created_at, import_id) < ($3, $4)
                        ORDER BY created_at DESC, import_id DESC LIMIT $2""",
                    account_id,
                    limit,
                    before[0],
                    before[1],
                )
        return [to_record(r) for r in rows]

    async def mark_prepared(self, import_id: uuid.UUID, sheet: PreparedSheet) -> None:
        """From `uploaded` (prepare) or `prepared`/`validated` (another sheet chosen at
        confirm): the file's header, columns and suggested mapping."""
        async with self._pool.acquire() as conn:
            await conn.execute(
                """
                UPDATE imports
                SET state = 'prepared', file_format = $2, sheet_name = $3, sheet_names = $4,
                    header = $5, header_signature = $6, sheet_locale = $7, row_count = $8,
                    columns = $9, mapping_feedback = $10, updated_at = now()
                WHERE import_id = $1 AND state IN ('uploaded', 'prepared', 'validated')
                """,
                import_id,
                sheet.file_format,
                sheet.sheet_name,
                sheet.sheet_names,
                sheet.header,
                sheet.header_signature,
                sheet.sheet_locale,
                sheet.row_count,
                sheet.columns,
                sheet.mapping_feedback,
            )

    async def mark_failed(
        self,
        import_id: uuid.UUID,
        code: str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        from_states: tuple[str, ...] = ("uploaded", "prepared", "validating", "validated", "running"),
    ) -> bool:
        async with self._pool.acquire() as conn:
            updated = await conn.fetchval(
                """
                UPDATE imports
                SET state = 'failed', error_code = $2, error_message = $3, error_row = $4,
                    error_column = $5, owner = NULL, lease_until = NULL,
                    finished_at = now(), updated_at = now()
                WHERE import_id = $1 AND state = ANY($6::text[])
                RETURNING true
                """,
                import_id,
                code,
                message,
                row,
                column,
                list(from_states),
            )
        return bool(updated)

    async def mark_published(self, import_id: uuid.UUID, flag: str) -> None:
        if flag not in ("prepared_published", "validated_published", "outcome_published"):
            raise ValueError(flag)
        async with self._pool.acquire() as conn:
            await conn.execute(f"UPDATE imports SET {flag} = true, updated_at = now() WHERE import_id = $1", import_id)

    async def confirm(
        self,
        import_id: uuid.UUID,
        *,
        confirmed_columns: dict[int, str],
        write_fields: list[str],
        tag: str | None,
        options: dict[str, Any],
    ) -> int | None:
        """`prepared`/`validated` → `validating` with the confirmed mapping; returns the
        new confirm version, or None if the import is in another state."""
        async with self._pool.acquire() as conn:
            return await conn.fetchval(
                """
                UPDATE imports
                SET state = 'validating', confirm_version = confirm_version + 1,
                    confirmed_columns = $2, write_fields = $3, tag = $4, options = $5,
                    validation_attempt = 0, validated_published = false, ready_to_start = false,
                    updated_at = now()
                WHERE import_id = $1 AND state IN ('prepared', 'validated')
                RETURNING confirm_version
                """,
                import_id,
                {str(k): v for k, v in confirmed_columns.items()},
                write_fields,
                tag,
                options,
            )

    async def remember_mapping(self, account_id: int, signature: str, field_keys: list[str | None]) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                """
                INSERT INTO remembered_mappings (account_id, header_signature, field_keys)
                VALUES ($1, $2, $3)
                ON CONFLICT (account_id, header_signature)
                DO UPDATE SET field_keys = EXCLUDED.field_keys, updated_at = now()
                """,
                account_id,
                signature,
                field_keys,
            )

    async def remembered_mapping(self, account_id: int, signature: str) -> list[str | None] | None:
        async with self._pool.acquire() as conn:
            keys = await conn.fetchval(
                "SELECT field_keys FROM remembered_mappings WHERE account_id = $1 AND header_signature = $2",
                account_id,
                signature,
            )
        return list(keys) if keys is not None else None
