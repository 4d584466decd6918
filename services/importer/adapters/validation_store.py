"""Validation results in the importer's database: feedback items and planned changes,
written with COPY batch by batch, and the job's counts at the end.

Every write is fenced by the validation run that makes it (`confirm_version` and
`validation_attempt`): a run that another run superseded writes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


class ValidationSuperseded(Exception):
    """Another confirm or another validation run owns the job now."""


@dataclass(frozen=True, slots=True)
class ValidationRun:
    import_id: uuid.UUID
    confirm_version: int
    attempt: int


@dataclass(frozen=True, slots=True)
class StoredFeedback:
    seq: int
    row_number: int | None
    severity: str
    code: str
    column_letter: str | None
    header: str | None
    field_key: str | None
    value: str | None
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlannedRow:
    row_number: int
    action: str
    contact_id: int | None
    values: dict[str, Any]
    expected_updated_at: datetime | None


_FEEDBACK_COLUMNS = (
    "import_id", "seq", "row_number", "severity", "code", "column_letter", "header",
    "field_key", "value", "params",
)  # fmt: skip
_PLAN_COLUMNS = ("import_id", "row_number", "action", "contact_id", "values", "expected_updated_at")


def json_safe(value: Any) -> Any:
    """Params and values as plain JSON (dates, decimals and the like as text)."""
    return json.loads(json_text(value))


def json_text(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


class ValidationStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def begin(self, import_id: uuid.UUID, confirm_version: int) -> ValidationRun | None:
        """Claims validation of this confirm: a new attempt, previous results deleted
        (a redelivered command starts over). None if the confirm is not current."""
        async with self._pool.acquire() as conn, conn.transaction():
            attempt = await conn.fetchval(
                """
                UPDATE imports SET validation_attempt = validation_attempt + 1, updated_at = now()
                WHERE import_id = $1 AND state = 'validating' AND confirm_version = $2
                RETURNING validation_attempt
                """,
                import_id,
                confirm_version,
            )
            if attempt is None:
                return None
            await conn.execute("DELETE FROM import_feedback WHERE import_id = $1", import_id)
            await conn.execute("DELETE FROM import_plan WHERE import_id = $1", import_id)
        return ValidationRun(import_id, confirm_version, attempt)

    async def write_batch(
        self,
        run: ValidationRun,
        feedback: Sequence[tuple[Any, ...]],
        planned: Sequence[tuple[Any, ...]],
    ) -> None:
        """Feedback rows are `_FEEDBACK_COLUMNS` without import_id; planned rows are
        `_PLAN_COLUMNS` without import_id."""
        if not feedback and not planned:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await self._fence(conn, run)
            if feedback:
                await conn.copy_records_to_table(
                    "import_feedback",
                    records=[(run.import_id, *item) for item in feedback],
                    columns=_FEEDBACK_COLUMNS,
                )
            if planned:
                await conn.copy_records_to_table(
                    "import_plan",
                    records=[(run.import_id, *row) for row in planned],
                    columns=_PLAN_COLUMNS,
                )

    async def finish(
        self,
        run: ValidationRun,
        *,
        revoked_rows: Sequence[int],
        counts: dict[str, Any],
        ready_to_start: bool,
    ) -> None:
        """Rows found in error at the end leave the plan; the job becomes `validated`."""
        async with self._pool.acquire() as conn, conn.transaction():
            await self._fence(conn, run)
            if revoked_rows:
                await conn.execute(
                    "UPDATE import_plan SET has_error = true WHERE import_id = $1 AND row_number = ANY($2::int[])",
                    run.import_id,
                    list(revoked_rows),
                )
            await conn.execute(
                """
                UPDATE imports
                SET state = 'validated', rows_total = $2, errors = $3, warnings = $4,
                    rows_with_errors = $5, to_create = $6, to_update = $7, unchanged = $8,
                    conflicts_skipped = $9, field_changes = $10, ready_to_start = $11,
                    validated_at = now(), updated_at = now()
                WHERE import_id = $1
                """,
                run.import_id,
                counts["rows"],
                counts["errors"],
                counts["warnings"],
                counts["rows_with_errors"],
                counts["to_create"],
                counts["to_update"],
                counts["unchanged"],
                counts["skipped"],
                counts["field_changes"],
                ready_to_start,
            )

    async def _fence(self, conn: asyncpg.Connection, run: ValidationRun) -> None:
        current = await conn.fetchval(
            """
            SELECT true FROM imports
            WHERE import_id = $1 AND state = 'validating' AND confirm_version = $2 AND validation_attempt = $3
            FOR UPDATE
            """,
            run.import_id,
            run.confirm_version,
            run.attempt,
        )
        if not current:
            raise ValidationSuperseded(str(run.import_id))

    async def feedback_page(
        self,
        import_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[int, int] | None = None,
        severity: str | None = None,
        row: int | None = None,
        code: str | None = None,
    ) -> list[StoredFeedback]:
        """Items in sheet order (file-level first); `after` is (row or 0, seq) of the
        last item of the previous page."""
        after_row, after_seq = after if after is not None else (-1, -1)
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """
                SELECT seq, row_number, severity, code, column_letter, header, field_key, value, params
                FROM import_feedback
                WHERE import_id = $1
                  AND (coalesce(row_number, 0), seq) > ($2, $3)
                  AND ($4::text IS NULL OR severity = $4)
                  AND ($5::int IS NULL OR row_number = $5)
                  AND ($6::text IS NULL OR code = $6)
                ORDER BY coalesce(row_number, 0), seq
                LIMIT $7
                """,
                import_id,
                after_row,
                after_seq,
                severity,
                row,
                code,
                limit,
            )
        return [StoredFeedback(**{**dict(r), "params": json.loads(r["params"])}) for r in rows]

    async def feedback_in_row_order(self, import_id: uuid.UUID, chunk: int = 5000) -> Any:
        """Every item, in sheet order, fetched a chunk at a time (for the report)."""
        after: tuple[int, int] | None = None
        while True:
            page = await self.feedback_page(import_id, limit=chunk, after=after)
            for item in page:
                yield item
            if len(page) < chunk:
                return
            last = page[-1]
            after = (last.row_number or 0, last.seq)
