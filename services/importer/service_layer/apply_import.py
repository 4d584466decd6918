"""The "start import" use case ("Iniciar importação"): the planned changes applied in
batches through the contacts service's bulk apply, exactly once per row.

One run at a time: the first start moves the job `validated` → `running` under a lease
that a heartbeat renews; a repeated start, a redelivered command or another replica
finds it running (or finished) and does nothing. A run whose owner died (its lease ran
out) is taken over by the next start delivery or by the periodic `resume_expired` sweep,
and continues at the first batch not recorded (see adapters/run_store).

Batches are sent in order, at most `BULK_APPLIES_IN_FLIGHT` bulk applies outstanding:
batch k+n is sent once batch k returned and batch k-1's record is stored. Batches hold
disjoint contacts (validation rejects a repeated ID) and creates are independent, so the
contacts service may apply them in any order; their outcomes are recorded strictly in
batch order. Beside the bulk applies, the importer records the previous batch's outcomes
and loads the rows of the batches after them. So a run that stops leaves at most the
batches in flight and the one being recorded applied and not recorded; a takeover
resends them under their idempotency keys and gets their first outcomes back.

A batch refused for good fails the import once every batch before it is recorded and
every batch sent after it has answered. If one of those was applied, the refused batch is
recorded first with each row `failed` (the refusal's reason; none of its rows was
applied), then the ones after it in order (refused ones the same way), up to the last
one applied: nothing applied is left unrecorded when the import goes `failed`. A
transient error stops the run after the batches before the first one that did not
succeed are recorded; the run resumes at the first batch not recorded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from services.importer.adapters.import_repository import ImportRecord, ImportRepository
from services.importer.adapters.run_store import BatchTally, RunStore
from services.importer.adapters.validation_store import PlannedRow
from services.importer.service_layer.announcements import Announcer
from services.importer.service_layer.confirm_import import options_from_json
from services.importer.service_layer.dropped_tasks import drop
from services.importer.service_layer.messages_text import text
from services.importer.service_layer.phase_clock import PhaseClock
from services.importer.service_layer.ports import ContactsGateway
from shared.contacts_api import (
    BulkApplyRequest,
    BulkApplyResult,
    BulkApplyRow,
    RowAction,
    RowOutcome,
    RowOutcomeKind,
)
from shared.contacts_client import ContactsApiError, UnknownAccount
from shared.events import StartImport
from shared.kafka import PoisonMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
PROGRESS_EVERY_FRACTION = 0.05
PROGRESS_EVERY_S = 5.0
# Batches whose rows are loaded from the importer's database ahead of the one being sent.
ROWS_LOADED_AHEAD = 2
# Bulk applies outstanding at once (batches k, k+1, …); 1 sends k+1 only once k returned.
BULK_APPLIES_IN_FLIGHT = 2


class RunLost(Exception):
    """Another owner took the run over (this one stalled past its lease)."""


@dataclass(frozen=True, slots=True)
class _Rejected:
    """A bulk apply refused for good: the import fails (once the batches before are recorded)."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class RunSettings:
    owner: str  # this process
    lease_s: float
    batch_size: int


@dataclass
class ApplyImport:
    repository: ImportRepository
    runs: RunStore
    contacts: ContactsGateway
    announcer: Announcer
    settings: RunSettings

    async def handle(self, command: StartImport) -> None:
        record = await self.repository.get(command.account_id, command.import_id)
        if record is None:
            # CONTRACT.md: a command naming no import of this account (another account's
            # id, a typo) goes to the dead letters, with a failed event for its id.
            raise PoisonMessage(
                "unknown_import", f"import {command.import_id} does not exist in account {command.account_id}"
            )
        await self.run(record.import_id)

    async def run(self, import_id: uuid.UUID) -> str:
        """Starts, resumes or leaves the run; returns the job's state afterwards."""
        claim = await self.runs.claim(import_id, self.settings.owner, self.settings.lease_s, self.settings.batch_size)
        if claim is None:
            return "gone"
        record = claim.record
        if not claim.claimed:
            if record.state in ("completed", "completed_with_errors", "failed") and not record.outcome_published:
                await self.announcer.outcome(record)
            return record.state
        if record.run_attempt > MAX_ATTEMPTS:
            await self._fail(record, "import_retries_exhausted", text("retries_exhausted", record.locale))
            return "failed"
        if claim.resumed:
            log.warning(
                "import %s: resuming at batch %s (attempt %s)", import_id, record.batches_done, record.run_attempt
            )
        try:
            return await self._apply_under_lease(record)
        except RunLost:
            log.warning("import %s: the run was taken over by another owner", import_id)
            return "running"

    async def _apply_under_lease(self, record: ImportRecord) -> str:
        lost = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(record.import_id, lost))
        applying = asyncio.create_task(self._apply(record))
        try:
            done, _ = await asyncio.wait({applying, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
            if applying not in done:  # the heartbeat ended: the lease is lost
                applying.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await applying
                raise RunLost(str(record.import_id))
            return applying.result()
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            if not applying.done():
                applying.cancel()

    async def _heartbeat(self, import_id: uuid.UUID, lost: asyncio.Event) -> None:
        interval = self.settings.lease_s / 3
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await self.runs.renew_lease(import_id, self.settings.owner, self.settings.lease_s)
            except Exception:  # the database blinked: try again before the lease runs out
                log.warning("import %s: could not renew the lease", import_id, exc_info=True)
                continue
            if not renewed:
                lost.set()
                return

    async def _apply(self, record: ImportRecord) -> str:
        options = options_from_json(record.options)
        planned_total = (record.to_create or 0) + (record.to_update or 0)
        rows_total = record.rows_total or 0
        kept_out = rows_total - planned_total  # unchanged, skipped or in error: done already
        progress = _ProgressThrottle(rows_total)
        clock = PhaseClock()
        batches = range(record.batches_done, record.batches_total or 0)
        loads = _RowsAhead(self.runs, record.import_id, batches, clock)
        to_send = iter(batches)
        depth = max(1, BULK_APPLIES_IN_FLIGHT)
        flying: deque[_InFlight] = deque()  # sent, in batch order; the oldest first
        current = record
        recording: asyncio.Task[ImportRecord] | None = None

        async def recorded() -> ImportRecord:
            """The previous batch's record, once stored; progress announced."""
            assert recording is not None
            with clock.phase("waiting for record"):
                stored = await recording
            done = kept_out + stored.rows_done
            if progress.due(done):
                await self.announcer.progress(stored, done, rows_total)
            return stored

        try:
            while True:
                while len(flying) < depth and (batch_no := next(to_send, None)) is not None:
                    rows = await loads.take(batch_no)
                    flying.append(
                        _InFlight(batch_no, rows, asyncio.create_task(self._bulk_apply(record, batch_no, rows, clock)))
                    )
                if not flying:
                    break
                oldest = flying[0]
                with clock.phase("waiting for bulk apply"):
                    await asyncio.wait({oldest.task})
                if recording is not None:
                    current = await recorded()
                    recording = None
                flying.popleft()
                result = oldest.task.result()  # a transient error raises: the batches before are recorded
                if isinstance(result, _Rejected):
                    # Every batch sent after it answers; those up to the last one applied are
                    # recorded, in order, before the import fails.
                    if flying:
                        with clock.phase("waiting for bulk apply"):
                            await asyncio.wait({f.task for f in flying})
                    after = [(f, f.task.result()) for f in flying]  # a transient error raises (see above)
                    flying.clear()
                    while after and isinstance(after[-1][1], _Rejected):
                        after.pop()
                    # The refused batch is recorded only if a batch after it was applied.
                    to_record = [(oldest, result), *after] if after else []
                    for sent, answer in to_record:
                        recording = asyncio.create_task(
                            self._record(record, sent.batch_no, sent.rows, answer, options.skip_conflicts, clock)
                        )
                        current = await recorded()
                        recording = None
                    await self._fail(record, result.code, result.message)
                    return "failed"
                recording = asyncio.create_task(
                    self._record(record, oldest.batch_no, oldest.rows, result, options.skip_conflicts, clock)
                )
            if recording is not None:
                current = await recorded()
                recording = None
        except asyncio.CancelledError:  # the lease is lost: another owner records from here
            if recording is not None:
                recording.cancel()
            raise
        except Exception:
            if recording is not None:
                # A transient error stopped the run after the previous batch was applied:
                # its record is still stored if it can be (the batches before it are), so
                # that a takeover need not resend it.
                with contextlib.suppress(Exception):
                    await recording
            raise
        finally:
            loads.cancel()
            for sent in flying:  # applied or not, resent by whoever resumes the run
                drop(sent.task)
        log.info("import %s: %d batches applied; %s", record.import_id, len(batches), clock.summary())
        extra_skipped = record.conflicts_skipped or 0
        if options.skip_rows_with_errors:
            extra_skipped += record.rows_with_errors or 0
        final_state = "completed" if current.applied_failed == 0 else "completed_with_errors"
        finished = await self.runs.finish(
            record.import_id, self.settings.owner, final_state, extra_skipped, record.unchanged or 0
        )
        if finished is None:
            raise RunLost(str(record.import_id))
        await self.announcer.progress(finished, rows_total, rows_total)
        await self.announcer.outcome(finished)
        return finished.state

    async def _record(
        self,
        record: ImportRecord,
        batch_no: int,
        rows: list[PlannedRow],
        result: BulkApplyResult | _Rejected,
        skip_conflicts: bool,
        clock: PhaseClock,
    ) -> ImportRecord:
        """Stores a batch's outcomes; a batch refused for good is stored with every row
        `failed` and the refusal's reason (the contacts service applied none of them)."""
        if isinstance(result, _Rejected):
            result = _refused(record, batch_no, rows, result)
        with clock.phase("record"):
            outcomes, tally = _tally(result, skip_conflicts, {r.row_number for r in rows})
            recorded = await self.runs.record_batch(
                record.import_id, self.settings.owner, batch_no, outcomes, tally, self.settings.lease_s
            )
        if recorded is None:
            raise RunLost(str(record.import_id))
        return recorded

    async def _bulk_apply(
        self, record: ImportRecord, batch_no: int, rows: list[PlannedRow], clock: PhaseClock
    ) -> BulkApplyResult | _Rejected:
        request = BulkApplyRequest(
            idempotency_key=f"{record.import_id}:{batch_no}",
            import_id=str(record.import_id),
            requested_by=record.requested_by,
            fields=record.write_fields or [],
            tag=record.tag,
            rows=[
                BulkApplyRow(
                    row_number=r.row_number,
                    action=RowAction(r.action),
                    contact_id=r.contact_id,
                    values=r.values,
                    expected_updated_at=r.expected_updated_at,
                )
                for r in rows
            ],
        )
        try:
            with clock.phase("bulk apply"):
                return await self.contacts.bulk_apply(record.account_id, request)
        except UnknownAccount:
            return _Rejected("unknown_account", text("unknown_account", record.locale))
        except ContactsApiError as exc:
            if exc.status is None or exc.status >= 500 or exc.status in (408, 409, 429):
                raise  # transient: redelivered (or resumed by the sweep) later
            return _Rejected("apply_rejected", text("apply_rejected", record.locale, detail=str(exc)[:300]))

    async def _fail(self, record: ImportRecord, code: str, message: str) -> None:
        if await self.repository.mark_failed(record.import_id, code, message, from_states=("running",)):
            failed = await self.repository.get(record.account_id, record.import_id)
            assert failed is not None
            await self.announcer.outcome(failed)


@dataclass(frozen=True, slots=True)
class _InFlight:
    """A batch whose bulk apply was sent."""

    batch_no: int
    rows: list[PlannedRow]
    task: asyncio.Task[BulkApplyResult | _Rejected]


def _refused(record: ImportRecord, batch_no: int, rows: list[PlannedRow], refusal: _Rejected) -> BulkApplyResult:
    """A refused batch's outcomes: every row failed, for the refusal's reason."""
    return BulkApplyResult(
        idempotency_key=f"{record.import_id}:{batch_no}",
        replayed=False,
        outcomes=[
            RowOutcome(
                row_number=r.row_number,
                outcome=RowOutcomeKind.FAILED,
                contact_id=r.contact_id,
                reason=refusal.message,
            )
            for r in rows
        ],
    )


def _tally(
    result: BulkApplyResult, skip_conflicts: bool, sent_rows: set[int]
) -> tuple[list[tuple[int, str, int | None, list[str], str | None]], BatchTally]:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    outcomes = []
    seen: set[int] = set()
    for o in result.outcomes:
        if o.row_number not in sent_rows or o.row_number in seen:
            continue
        seen.add(o.row_number)
        kind = o.outcome
        # A contact changed between validation and start: skipped if the user chose so.
        conflict_bucket = "skipped" if skip_conflicts else "failed"
        bucket = conflict_bucket if kind is RowOutcomeKind.CONFLICT else kind.value
        counts[bucket] += 1
        outcomes.append((o.row_number, kind.value, o.contact_id, list(o.changed_fields), o.reason))
    for row_number in sorted(sent_rows - seen):  # never silently lost
        counts["failed"] += 1
        outcomes.append((row_number, RowOutcomeKind.FAILED.value, None, [], "no outcome from the contacts service"))
    return outcomes, BatchTally(**counts)


class _RowsAhead:
    """The rows of each batch, loaded from the importer's database by a task of its own
    up to `ROWS_LOADED_AHEAD` batches ahead of the one being sent."""

    def __init__(self, runs: RunStore, import_id: uuid.UUID, batches: Iterable[int], clock: PhaseClock) -> None:
        self._runs = runs
        self._import_id = import_id
        self._batches = iter(batches)
        self._clock = clock
        self._tasks: dict[int, asyncio.Task[list[PlannedRow]]] = {}

    async def take(self, batch_no: int) -> list[PlannedRow]:
        while len(self._tasks) <= ROWS_LOADED_AHEAD and (following := next(self._batches, None)) is not None:
            self._tasks[following] = asyncio.create_task(self._load(following))
        with self._clock.phase("waiting for rows"):
            return await self._tasks.pop(batch_no)

    def cancel(self) -> None:
        for task in self._tasks.values():
            drop(task)
        self._tasks.clear()

    async def _load(self, batch_no: int) -> list[PlannedRow]:
        with self._clock.phase("load"):
            return await self._runs.batch_rows(self._import_id, batch_no)


class _ProgressThrottle:
    """At least every 5 % of the rows or every 5 s, whichever comes first."""

    def __init__(self, total: int) -> None:
        self.step = max(1, int(total * PROGRESS_EVERY_FRACTION))
        self.last_done = 0
        self.last_at = time.monotonic()

    def due(self, done: int) -> bool:
        now = time.monotonic()
        if done - self.last_done >= self.step or now - self.last_at >= PROGRESS_EVERY_S:
            self.last_done, self.last_at = done, now
            return True
        return False


async def resume_expired_runs(apply: ApplyImport, interval_s: float) -> None:
    """Forever: resumes runs whose owner stopped renewing the lease (killed, cut off).
    Every replica sweeps; the claim lets exactly one of them take each run."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            for import_id in await apply.runs.expired_runs():
                await apply.run(import_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("resuming expired runs failed; will try again", exc_info=True)
