"""The export jobs table (the service's own database)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.events import ExportRequested


@dataclass(frozen=True, slots=True)
class ExportRecord:
    export_id: uuid.UUID
    account_id: int
    requested_by: str
    format: str
    locale: str
    selection: dict[str, Any]
    fields: list[str] | None
    state: str
    attempt: int
    row_count: int | None
    file_name: str | None
    bucket: str | None
    object_key: str | None
    size_bytes: int | None
    download_url: str | None
    download_expires_at: datetime | None
    error_code: str | None
    error_message: str | None
    outcome_published: bool
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _record(row: asyncpg.Record) -> ExportRecord:
    return ExportRecord(**{name: row[name] for name in ExportRecord.__dataclass_fields__})


_COLUMNS = ", ".join(ExportRecord.__dataclass_fields__)


class ExportRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def register(self, request: ExportRequested) -> ExportRecord:
        """The export of this id: recorded now, or as first recorded (a repeated request
        with the same id is the same export)."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"""
                INSERT INTO exports (export_id, account_id, requested_by, format, locale, selection, fields)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (export_id) DO NOTHING
                RETURNING {_COLUMNS}
                """,
                request.export_id,
                request.account_id,
                request.requested_by,
                request.format.value,
                request.locale.value,
                request.selection.model_dump(mode="json", exclude_none=True),
                request.fields,
            )
            if row is None:
                row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM exports WHERE export_id = $1", request.export_id)
        assert row is not None
        return _record(row)

    async def claim(self, export_id: uuid.UUID) -> int | None:
        """Moves a requested or running export to (another) run; returns its attempt
        number, or None when it already has an outcome."""
        async with self._pool.acquire() as conn:
            return await conn.fetchval(
                """
                UPDATE exports
                SET state = 'running', attempt = attempt + 1, started_at = now(), updated_at = now()
                WHERE export_id = $1 AND state IN ('requested', 'running')
                RETURNING attempt
                """,
                export_id,
            )

    async def mark_ready(
        self,
        export_id: uuid.UUID,
        attempt: int,
        *,
        row_count: int,
        file_name: str,
        bucket: str,
        object_key: str,
        size_bytes: int,
        download_url: str,
        download_expires_at: datetime,
    ) -> bool:
        async with self._pool.acquire() as conn:
            updated = await conn.fetchval(
                """
                UPDATE exports
                SET state = 'ready', row_count = $3, file_name = $4, bucket = $5, object_key = $6,
                    size_bytes = $7, download_url = $8, download_expires_at = $9,
                    finished_at = now(), updated_at = now()
                WHERE export_id = $1 AND attempt = $2 AND state = 'running'
                RETURNING true
                """,
                export_id,
                attempt,
                row_count,
                file_name,
                bucket,
                object_key,
                size_bytes,
                download_url,
                download_expires_at,
            )
        return bool(updated)

    async def mark_failed(self, export_id: uuid.UUID, attempt: int | None, code: str, message: str) -> bool:
        async with self._pool.acquire() as conn:
            updated = await conn.fetchval(
                """
                UPDATE exports
                SET state = 'failed', error_code = $3, error_message = $4, finished_at = now(), updated_at = now()
                WHERE export_id = $1 AND state IN ('requested', 'running') AND ($2::int IS NULL OR attempt = $2)
                RETURNING true
                """,
                export_id,
                attempt,
                code,
                message,
            )
        return bool(updated)

    async def mark_outcome_published(self, export_id: uuid.UUID) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                "UPDATE exports SET outcome_published = true, updated_at = now() WHERE export_id = $1", export_id
            )

    async def get(self, account_id: int, export_id: uuid.UUID) -> ExportRecord | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM exports WHERE export_id = $1 AND account_id = $2", export_id, account_id
            )
        return _record(row) if row else None

    async def list_newest_first(
        self, account_id: int, limit: int, before: tuple[datetime, uuid.UUID] | None = None
    ) -> list[ExportRecord]:
        async with self._pool.acquire() as conn:
            if before is None:
                rows = await conn.fetch(
                    f"""SELECT {_COLUMNS} FROM exports WHERE account_id = $1
                        ORDER BY requested_at DESC, export_id DESC LIMIT $2""",
                    account_id,
                    limit,
                )
            else:
                rows = await conn.fetch(
                    f"""SELECT {_COLUMNS} FROM exports
                        WHERE account_id = $1 AND (requested_at, export_id) < ($3, $4)
                        ORDER BY requested_at DESC, export_id DESC LIMIT $2""",
                    account_id,
                    limit,
                    before[0],
                    before[1],
                )
        return [_record(r) for r in rows]
