"""The apply run in the importer's database: who owns it (a lease, renewed by a
heartbeat), which batch comes next, and every applied row's outcome.

Exactly-once rests on two facts: batch numbers are assigned once, when the run begins,
so a resumed run sends the same batches under the same idempotency keys; and a batch's
outcomes and counters are stored in one transaction that advances `batches_done` from n
to n+1 only if it still is n, so no batch is counted twice."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.importer.adapters.import_repository import COLUMNS, ImportRecord, to_record
from services.importer.adapters.validation_store import PlannedRow


@dataclass(frozen=True, slots=True)
class RunClaim:
    """The outcome of trying to take a run: `record` is the job after the attempt."""

    record: ImportRecord
    claimed: bool
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class BatchTally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.skipped + self.failed


class RunStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(self, import_id: uuid.UUID, owner: str, lease_s: float, batch_size: int) -> RunClaim | None:
        """Starts the run of a validated import that is ready, or takes over a run whose
        owner's lease expired. None if the import does not exist."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT {COLUMNS}, lease_until < now() AS lease_expired FROM imports WHERE import_id = $1 FOR UPDATE",
                import_id,
            )
            if row is None:
                return None
            record = to_record(row)
            if record.state == "validated" and record.ready_to_start:
                batches = await self._assign_batches(conn, import_id, batch_size)
                updated = await conn.fetchrow(
                    f"""
                    UPDATE imports
                    SET state = 'running', owner = $2, lease_until = now() + make_interval(secs => $3),
                        run_attempt = run_attempt + 1, batches_total = $4, batches_done = 0, claimed_at_batch = 0,
                        started_at = now(), updated_at = now()
                    WHERE import_id = $1
                    RETURNING {COLUMNS}
                    """,
                    import_id,
                    owner,
                    lease_s,
                    batches,
                )
                return RunClaim(to_record(updated), claimed=True)
            if record.state == "running" and (row["lease_expired"] or record.owner == owner):
                updated = await conn.fetchrow(
                    f"""
                    UPDATE imports
                    SET owner = $2, lease_until = now() + make_interval(secs => $3),
                        -- attempts in a row that recorded no batch (see migration 0002)
                        run_attempt = CASE WHEN batches_done > claimed_at_batch THEN 1 ELSE run_attempt + 1 END,
                        claimed_at_batch = batches_done, updated_at = now()
                    WHERE import_id = $1
                    RETURNING {COLUMNS}
                    """,
                    import_id,
                    owner,
                    lease_s,
                )
                return RunClaim(to_record(updated), claimed=True, resumed=True)
            return RunClaim(record, claimed=False)

    async def _assign_batches(self, conn: asyncpg.Connection, import_id: uuid.UUID, batch_size: int) -> int:
        # The import's plan rows were written since the table was last analysed, so the
        # planner expects one of them and joins by a nested loop that re-runs the window
        # for every row: quadratic, minutes for 50k rows (found by the 50k-row kill
        # soak, third trial). A hash or merge join is right whatever the estimate.
        await conn.execute("SET LOCAL enable_nestloop = off")
        await conn.execute(
            """
            UPDATE import_plan p SET batch_no = (s.position - 1) / $2
            FROM (
                SELECT row_number, row_number() OVER (ORDER BY row_number) AS position
                FROM import_plan WHERE import_id = $1 AND NOT has_error
            ) s
            WHERE p.import_id = $1 AND p.row_number = s.row_number
            """,
            import_id,
            batch_size,
        )
        count = await conn.fetchval(
            "SELECT count(*) FROM import_plan WHERE import_id = $1 AND NOT has_error", import_id
        )
        return (int(count) + batch_size - 1) // batch_size

    async def expired_runs(self, limit: int = 10) -> list[uuid.UUID]:
        """Running imports whose owner stopped renewing the lease."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT import_id FROM imports WHERE state = 'running' AND lease_until < now()
                   ORDER BY lease_until LIMIT $1""",
                limit,
            )
        return [r["import_id"] for r in rows]

    async def renew_lease(self, import_id: uuid.UUID, owner: str, lease_s: float) -> bool:
        async with self._pool.acquire() as conn:
            renewed = await conn.fetchval(
                """
                UPDATE imports SET lease_until = now() + make_interval(secs => $3)
                WHERE import_id = $1 AND state = 'running' AND owner = $2
                RETURNING true
                """,
                import_id,
                owner,
                lease_s,
            )
        return bool(renewed)

    async def batch_rows(self, import_id: uuid.UUID, batch_no: int) -> list[PlannedRow]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """
                SELECT row_number, action, contact_id, "values", expected_updated_at FROM import_plan
                WHERE import_id = $1 AND batch_no = $2 ORDER BY row_number
                """,
                import_id,
                batch_no,
            )
        return [PlannedRow(**{**dict(r), "values": json.loads(r["values"])}) for r in rows]

    async def record_batch(
        self,
        import_id: uuid.UUID,
        owner: str,
        batch_no: int,
        outcomes: Sequence[tuple[int, str, int | None, list[str], str | None]],
        tally: BatchTally,
        lease_s: float,
    ) -> ImportRecord | None:
        """Stores batch `batch_no`'s outcomes (row, outcome, contact id, changed fields,
        reason) and counts, once; None if this owner lost the run or the batch was
        recorded already."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"""
                UPDATE imports
                SET batches_done = $3 + 1, rows_done = rows_done + $4,
                    applied_created = applied_created + $5, applied_updated = applied_updated + $6,
                    applied_unchanged = applied_unchanged + $7, applied_skipped = applied_skipped + $8,
                    applied_failed = applied_failed + $9,
                    lease_until = now() + make_interval(secs => $10), updated_at = now()
                WHERE import_id = $1 AND owner = $2 AND state = 'running' AND batches_done = $3
                RETURNING {COLUMNS}
                """,
                import_id,
                owner,
                batch_no,
                tally.rows,
                tally.created,
                tally.updated,
                tally.unchanged,
                tally.skipped,
                tally.failed,
                lease_s,
            )
            if row is None:
                return None
            if outcomes:
                await conn.copy_records_to_table(
                    "import_row_outcomes",
                    records=[(import_id, r, batch_no, o, c, f, reason) for r, o, c, f, reason in outcomes],
                    columns=(
                        "import_id",
                        "row_number",
                        "batch_no",
                        "outcome",
                        "contact_id",
                        "changed_fields",
                        "reason",
                    ),
                )
        return to_record(row)

    async def finish(
        self, import_id: uuid.UUID, owner: str, final_state: str, extra_skipped: int, extra_unchanged: int
    ) -> ImportRecord | None:
        """Ends the run: rows that validation kept out (errors skipped, conflicts skipped,
        unchanged) join the counts once, here."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"""
                UPDATE imports
                SET state = $3, applied_skipped = applied_skipped + $4,
                    applied_unchanged = applied_unchanged + $5,
                    owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now()
                WHERE import_id = $1 AND owner = $2 AND state = 'running'
                RETURNING {COLUMNS}
                """,
                import_id,
                owner,
                final_state,
                extra_skipped,
                extra_unchanged,
            )
        return to_record(row) if row else None

    async def row_outcomes(self, import_id: uuid.UUID, limit: int, after_row: int = 0) -> list[dict[str, Any]]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """
                SELECT row_number, outcome, contact_id, changed_fields, reason FROM import_row_outcomes
                WHERE import_id = $1 AND row_number > $2 ORDER BY row_number LIMIT $3
                """,
                import_id,
                after_row,
                limit,
            )
        return [dict(r) for r in rows]
