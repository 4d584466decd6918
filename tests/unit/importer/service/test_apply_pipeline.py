"""The apply run's pipeline (apply_import._apply) on in-memory fakes: up to
`BULK_APPLIES_IN_FLIGHT` bulk applies are in flight while the previous batch is recorded
and the next batches' rows load. What must hold whatever order those finish in (the
contacts service may answer batch k+1 before batch k): no more bulk applies in flight than
the depth, sent in batch order; batches recorded strictly in order, each once; a batch
rejected for good fails the import only once every batch the contacts service applied is
recorded (a refused batch before an applied one recorded with every row failed); any
other stop leaves a run that a takeover finishes, each row applied exactly once.

Most tests run at depth 1 (one bulk apply at a time) and 2; some need a given depth. The
fakes finish their work in a chosen order by yielding to the event loop a chosen number
of times: no timing is involved."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from services.importer.adapters.import_repository import ImportRecord
from services.importer.adapters.run_store import BatchTally, RunClaim
from services.importer.adapters.validation_store import PlannedRow
from services.importer.service_layer import apply_import
from services.importer.service_layer.apply_import import ApplyImport, RunSettings
from shared.contacts_api import BulkApplyRequest, BulkApplyResult, RowOutcome, RowOutcomeKind
from shared.contacts_client import ContactsApiError, UnknownAccount

BATCH_SIZE = 3


@pytest.fixture(params=[1, 2], ids=["1 in flight", "2 in flight"])
def depth(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """`BULK_APPLIES_IN_FLIGHT` for the test (indirect parametrization picks other ones)."""
    monkeypatch.setattr(apply_import, "BULK_APPLIES_IN_FLIGHT", request.param)
    return int(request.param)


async def _yield(times: int) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


def _record(batches: int, rows: int) -> ImportRecord:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {name: None for name in ImportRecord.__dataclass_fields__}
    fields.update(
        import_id=uuid.uuid4(),
        account_id=1,
        requested_by="tests",
        locale="pt-BR",
        state="validated",
        write_fields=["name"],
        options={},
        rows_total=rows,
        to_update=rows,
        to_create=0,
        unchanged=0,
        ready_to_start=True,
        run_attempt=0,
        batches_total=batches,
        batches_done=0,
        rows_done=0,
        applied_created=0,
        applied_updated=0,
        applied_unchanged=0,
        applied_skipped=0,
        applied_failed=0,
        created_at=now,
        updated_at=now,
    )
    return ImportRecord(**fields)


@dataclass
class FakeRuns:
    """RunStore's contract in memory: `record_batch` stores batch n only when n batches
    are recorded and the caller owns the running job (else None), as its SQL does."""

    record: ImportRecord
    plan: dict[int, list[PlannedRow]]
    load_yields: dict[int, int] = field(default_factory=dict)  # batch → yields before its rows come
    record_yields: dict[int, int] = field(default_factory=dict)  # batch → yields before it is stored
    record_error: dict[int, BaseException] = field(default_factory=dict)  # batch → raised once
    lose_lease_at: int | None = None  # recording this batch finds another owner
    outcomes: dict[int, tuple[int, str]] = field(default_factory=dict)  # row → (batch, outcome)
    reasons: dict[int, str | None] = field(default_factory=dict)  # row → reason recorded
    recorded_order: list[int] = field(default_factory=list)

    async def claim(self, import_id: uuid.UUID, owner: str, lease_s: float, batch_size: int) -> RunClaim:
        if self.record.state == "validated":
            self.record = replace(self.record, state="running", owner=owner, run_attempt=1)
            return RunClaim(self.record, claimed=True)
        if self.record.state == "running":
            self.record = replace(self.record, owner=owner, run_attempt=self.record.run_attempt + 1)
            return RunClaim(self.record, claimed=True, resumed=True)
        return RunClaim(self.record, claimed=False)

    async def renew_lease(self, import_id: uuid.UUID, owner: str, lease_s: float) -> bool:
        return self.record.state == "running" and self.record.owner == owner

    async def batch_rows(self, import_id: uuid.UUID, batch_no: int) -> list[PlannedRow]:
        await _yield(self.load_yields.get(batch_no, 0))
        return list(self.plan[batch_no])

    async def record_batch(
        self,
        import_id: uuid.UUID,
        owner: str,
        batch_no: int,
        outcomes: Sequence[tuple[int, str, int | None, list[str], str | None]],
        tally: BatchTally,
        lease_s: float,
    ) -> ImportRecord | None:
        await _yield(self.record_yields.get(batch_no, 0))
        if batch_no in self.record_error:
            raise self.record_error.pop(batch_no)
        if self.lose_lease_at == batch_no:
            self.lose_lease_at = None
            self.record = replace(self.record, owner="someone else")
        current = self.record
        if current.state != "running" or current.owner != owner or current.batches_done != batch_no:
            return None
        for row, outcome, _contact, _fields, reason in outcomes:
            assert row not in self.outcomes, f"row {row} recorded twice"
            self.outcomes[row] = (batch_no, outcome)
            self.reasons[row] = reason
        self.recorded_order.append(batch_no)
        self.record = replace(
            current,
            batches_done=batch_no + 1,
            rows_done=current.rows_done + tally.rows,
            applied_created=current.applied_created + tally.created,
            applied_updated=current.applied_updated + tally.updated,
            applied_unchanged=current.applied_unchanged + tally.unchanged,
            applied_skipped=current.applied_skipped + tally.skipped,
            applied_failed=current.applied_failed + tally.failed,
        )
        return self.record

    async def finish(
        self, import_id: uuid.UUID, owner: str, final_state: str, extra_skipped: int, extra_unchanged: int
    ) -> ImportRecord | None:
        if self.record.state != "running" or self.record.owner != owner:
            return None
        self.record = replace(self.record, state=final_state, owner=None)
        return self.record


@dataclass
class FakeRepository:
    runs: FakeRuns
    batches_recorded_when_failed: int | None = None

    async def mark_failed(
        self, import_id: uuid.UUID, code: str, message: str, *, from_states: tuple[str, ...] = ()
    ) -> bool:
        if self.runs.record.state not in from_states:
            return False
        self.batches_recorded_when_failed = self.runs.record.batches_done
        self.runs.record = replace(self.runs.record, state="failed", error_code=code, error_message=message, owner=None)
        return True

    async def get(self, account_id: int, import_id: uuid.UUID) -> ImportRecord:
        return self.runs.record


class FakeAnnouncer:
    async def progress(self, record: ImportRecord, rows_done: int, rows_total: int) -> None:
        pass

    async def outcome(self, record: ImportRecord) -> None:
        pass


@dataclass
class FakeContacts:
    """Bulk apply, idempotent per key as the contacts service's is: a repeated key gets
    the first outcomes and changes nothing. `applied` counts each row's real writes."""

    apply_yields: dict[int, int] = field(default_factory=dict)  # batch → yields before it answers
    refuse: dict[int, BaseException] = field(default_factory=dict)  # batch → raised, nothing applied
    fail_after_applying: dict[int, BaseException] = field(default_factory=dict)  # applied, then raised once
    applied: dict[int, int] = field(default_factory=dict)  # row → times written
    applied_batches: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)  # batches whose request was cancelled
    results: dict[str, BulkApplyResult] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0

    async def bulk_apply(self, account_id: int, request: BulkApplyRequest) -> BulkApplyResult:
        batch_no = int(request.idempotency_key.rsplit(":", 1)[1])
        self.sent.append(batch_no)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await _yield(self.apply_yields.get(batch_no, 0))
            if batch_no in self.refuse:
                raise self.refuse[batch_no]
            if request.idempotency_key not in self.results:
                for row in request.rows:
                    self.applied[row.row_number] = self.applied.get(row.row_number, 0) + 1
                self.applied_batches.append(batch_no)
                self.results[request.idempotency_key] = BulkApplyResult(
                    idempotency_key=request.idempotency_key,
                    replayed=False,
                    outcomes=[
                        RowOutcome(row_number=r.row_number, outcome=RowOutcomeKind.UPDATED, contact_id=r.contact_id)
                        for r in request.rows
                    ],
                )
            if batch_no in self.fail_after_applying:
                raise self.fail_after_applying.pop(batch_no)
            return self.results[request.idempotency_key]
        except asyncio.CancelledError:
            self.cancelled.append(batch_no)
            raise
        finally:
            self.in_flight -= 1


@dataclass
class Run:
    runs: FakeRuns
    repository: FakeRepository
    contacts: FakeContacts
    rows: list[int]

    def apply(self, owner: str = "owner-1") -> ApplyImport:
        return ApplyImport(
            self.repository,  # type: ignore[arg-type]
            self.runs,  # type: ignore[arg-type]
            self.contacts,
            FakeAnnouncer(),  # type: ignore[arg-type]
            RunSettings(owner=owner, lease_s=60.0, batch_size=BATCH_SIZE),
        )

    @property
    def batches(self) -> int:
        return len(self.runs.plan)

    def assert_exactly_once(self) -> None:
        assert self.contacts.applied == dict.fromkeys(self.rows, 1)
        assert sorted(self.runs.outcomes) == self.rows
        assert self.runs.recorded_order == list(range(self.batches))
        assert self.runs.record.rows_done == len(self.rows)

    def assert_applied_batches_are_recorded(self) -> None:
        """What the contacts service applied is what the importer recorded."""
        recorded = set(self.runs.recorded_order)
        assert set(self.contacts.applied_batches) == recorded
        assert self.runs.recorded_order == list(range(len(recorded)))

    def assert_counts_add_up(self) -> None:
        """Each row recorded once; the run's counters are the sum of what was recorded."""
        record = self.runs.record
        kinds = [outcome for _batch, outcome in self.runs.outcomes.values()]
        assert record.rows_done == len(self.runs.outcomes) == len(self.runs.recorded_order) * BATCH_SIZE
        assert record.applied_updated == kinds.count("updated")
        assert record.applied_failed == kinds.count("failed")
        assert record.rows_done == record.applied_updated + record.applied_failed

    def rows_of(self, *batches: int) -> list[int]:
        return [p.row_number for b in batches for p in self.runs.plan[b]]


def _planned(row: int) -> PlannedRow:
    return PlannedRow(
        row_number=row, action="update", contact_id=1000 + row, values={"name": f"n{row}"}, expected_updated_at=None
    )


def _run(batches: int = 7) -> Run:
    rows = list(range(2, 2 + batches * BATCH_SIZE))
    plan = {b: [_planned(r) for r in rows[b * BATCH_SIZE : (b + 1) * BATCH_SIZE]] for b in range(batches)}
    runs = FakeRuns(_record(batches, len(rows)), plan)
    return Run(runs, FakeRepository(runs), FakeContacts(), rows)


async def test_batches_go_in_order_at_most_the_depth_at_a_time_whatever_order_loads_and_records_finish_in(
    depth: int,
) -> None:
    run = _run(7)
    run.runs.load_yields = {b: 3 * (7 - b) for b in range(7)}  # later batches' rows come first
    run.runs.record_yields = {b: 25 for b in range(7)}  # each record outlasts the next bulk apply
    run.contacts.apply_yields = {b: 2 for b in range(7)}
    assert await run.apply().run(run.runs.record.import_id) == "completed"
    assert run.contacts.sent == list(range(7))
    assert run.contacts.most_in_flight == depth
    run.assert_exactly_once()


async def test_records_faster_than_bulk_applies_keep_their_order(depth: int) -> None:
    run = _run(5)
    run.contacts.apply_yields = {b: 10 * (5 - b) for b in range(5)}
    assert await run.apply().run(run.runs.record.import_id) == "completed"
    assert run.contacts.sent == list(range(5))
    run.assert_exactly_once()


REFUSALS = pytest.mark.parametrize(
    ("refusal", "code"),
    [
        (ContactsApiError(422, "invalid batch"), "apply_rejected"),
        (UnknownAccount(404, "unknown account"), "unknown_account"),
    ],
    ids=["apply_rejected", "unknown_account"],
)


@pytest.mark.parametrize("depth", [1], indirect=True)
@REFUSALS
async def test_a_batch_refused_for_good_fails_the_import_only_after_the_batches_before_are_recorded(
    depth: int, refusal: BaseException, code: str
) -> None:
    run = _run(7)
    run.runs.record_yields = {2: 50}  # batch 2 is still being recorded when batch 3 is refused
    run.contacts.refuse = {3: refusal}
    assert await run.apply().run(run.runs.record.import_id) == "failed"
    assert run.runs.record.state == "failed"
    assert run.repository.batches_recorded_when_failed == 3
    assert run.contacts.sent == [0, 1, 2, 3]  # nothing sent after the refusal
    run.assert_applied_batches_are_recorded()
    assert run.contacts.applied == {r: 1 for r in run.rows[: 3 * BATCH_SIZE]}
    assert run.runs.record.error_code == code


async def test_a_record_failing_while_the_next_batch_is_applied_leaves_a_run_that_a_takeover_finishes(
    depth: int,
) -> None:
    run = _run(6)
    # Batch 2's record fails (the database blinked) after batch 3 (and 4 at depth 2) was applied.
    run.runs.record_yields = {2: 50}
    run.runs.record_error = {2: ConnectionError("importer database unreachable")}
    with pytest.raises(ConnectionError):
        await run.apply().run(run.runs.record.import_id)
    assert run.runs.record.state == "running"
    assert run.runs.recorded_order == [0, 1]
    sent = list(range(3 + depth))
    assert run.contacts.applied_batches == sent  # 2 and the ones after it applied, not recorded
    assert run.contacts.sent == sent
    assert await run.apply("owner-2").run(run.runs.record.import_id) == "completed"
    assert run.contacts.sent == [*sent, 2, 3, 4, 5]  # 2 and after resent: replayed
    run.assert_exactly_once()


async def test_a_transient_bulk_apply_error_still_records_the_batch_before(depth: int) -> None:
    run = _run(6)
    run.runs.record_yields = {2: 50}
    run.contacts.fail_after_applying = {3: ContactsApiError(502, "bad gateway")}
    with pytest.raises(ContactsApiError):
        await run.apply().run(run.runs.record.import_id)
    assert run.runs.record.state == "running"
    assert run.runs.recorded_order == [0, 1, 2]  # batch 2's record was not dropped
    assert await run.apply("owner-2").run(run.runs.record.import_id) == "completed"
    sent = list(range(3 + depth))
    assert run.contacts.sent == [*sent, 3, 4, 5]
    run.assert_exactly_once()


async def test_a_run_that_loses_its_lease_while_recording_stops_and_the_new_owner_finishes(depth: int) -> None:
    run = _run(6)
    run.runs.record_yields = {1: 50}
    run.runs.lose_lease_at = 1
    assert await run.apply().run(run.runs.record.import_id) == "running"
    assert run.runs.recorded_order == [0]
    # Batch 2 (and 3 at depth 2) went while batch 1 was being recorded.
    assert run.contacts.sent == list(range(2 + depth))
    assert await run.apply("someone else").run(run.runs.record.import_id) == "completed"
    run.assert_exactly_once()


async def test_a_run_resumed_midway_starts_at_the_first_batch_not_recorded(depth: int) -> None:
    run = _run(5)
    run.runs.record_error = {3: ConnectionError("blink")}
    with pytest.raises(ConnectionError):
        await run.apply().run(run.runs.record.import_id)
    assert run.runs.recorded_order == [0, 1, 2]
    sent_before = len(run.contacts.sent)
    assert await run.apply("owner-2").run(run.runs.record.import_id) == "completed"
    assert run.contacts.sent[sent_before:] == [3, 4]
    run.assert_exactly_once()


# Two (or more) bulk applies in flight: the contacts service answers them in any order.

SLOW_EVEN = {b: 20 if b % 2 == 0 else 0 for b in range(10)}  # batch k+1 answers before batch k


@pytest.mark.parametrize("depth", [2, 3], indirect=True)
async def test_bulk_applies_answered_out_of_order_are_recorded_in_order(depth: int) -> None:
    run = _run(7)
    run.contacts.apply_yields = {b: 20 if b % 2 == 0 else 10 for b in range(7)}  # k+1 answers before k
    run.runs.record_yields = {b: 5 for b in range(7)}
    assert await run.apply().run(run.runs.record.import_id) == "completed"
    assert run.contacts.sent == list(range(7))
    assert run.contacts.most_in_flight == depth
    assert run.contacts.applied_batches != list(range(7))  # they were applied out of order
    run.assert_exactly_once()
    run.assert_counts_add_up()


@pytest.mark.parametrize("depth", [2], indirect=True)
@REFUSALS
async def test_a_refusal_with_nothing_applied_after_it_fails_the_import_once_the_batches_before_are_recorded(
    depth: int, refusal: BaseException, code: str
) -> None:
    """k applied, k+1 refused: k is recorded, then the import fails (k+1 is the last batch)."""
    run = _run(5)
    run.contacts.apply_yields = SLOW_EVEN  # batch 4 is refused before batch 3 answers
    run.runs.record_yields = {3: 30}
    run.contacts.refuse = {4: refusal}
    assert await run.apply().run(run.runs.record.import_id) == "failed"
    assert run.runs.record.error_code == code
    assert run.repository.batches_recorded_when_failed == 4
    assert run.runs.recorded_order == [0, 1, 2, 3]
    run.assert_applied_batches_are_recorded()
    run.assert_counts_add_up()
    assert run.contacts.applied == dict.fromkeys(run.rows_of(0, 1, 2, 3), 1)


@pytest.mark.parametrize("depth", [2], indirect=True)
@REFUSALS
async def test_a_refused_batch_is_recorded_failed_when_the_batch_after_it_was_applied(
    depth: int, refusal: BaseException, code: str
) -> None:
    """k refused while k+1 (sent beside it) was applied: k's rows recorded failed with the
    refusal's reason, then k+1's outcomes, then the import fails; nothing sent after."""
    run = _run(7)
    run.contacts.apply_yields = {3: 20}  # batch 4 is applied before batch 3 is refused
    run.runs.record_yields = {2: 30}
    run.contacts.refuse = {3: refusal}
    assert await run.apply().run(run.runs.record.import_id) == "failed"
    assert run.contacts.sent == [0, 1, 2, 3, 4]
    assert run.contacts.applied_batches == [0, 1, 2, 4]
    assert run.runs.recorded_order == [0, 1, 2, 3, 4]
    assert run.repository.batches_recorded_when_failed == 5  # everything applied was recorded first
    assert run.runs.record.error_code == code
    for row in run.rows_of(3):
        assert run.runs.outcomes[row] == (3, "failed")
        assert run.runs.reasons[row] == run.runs.record.error_message
    assert all(run.runs.outcomes[row] == (4, "updated") for row in run.rows_of(4))
    assert run.contacts.applied == dict.fromkeys(run.rows_of(0, 1, 2, 4), 1)
    assert run.runs.record.applied_failed == BATCH_SIZE
    run.assert_counts_add_up()


@pytest.mark.parametrize("depth", [2], indirect=True)
async def test_two_refused_batches_with_nothing_applied_after_them_fail_the_import_as_one_refused_batch(
    depth: int,
) -> None:
    run = _run(6)
    run.contacts.apply_yields = {2: 20}
    run.contacts.refuse = {2: UnknownAccount(404, "unknown account"), 3: UnknownAccount(404, "unknown account")}
    assert await run.apply().run(run.runs.record.import_id) == "failed"
    assert run.contacts.sent == [0, 1, 2, 3]
    assert run.runs.recorded_order == [0, 1]
    assert run.repository.batches_recorded_when_failed == 2
    run.assert_applied_batches_are_recorded()
    run.assert_counts_add_up()


@pytest.mark.parametrize("depth", [3], indirect=True)
async def test_refused_batches_before_an_applied_one_are_each_recorded_failed(depth: int) -> None:
    run = _run(7)
    run.contacts.apply_yields = {2: 20, 3: 10}  # batch 4 applied first, then 3 and 2 refused
    run.contacts.refuse = {2: ContactsApiError(422, "invalid batch"), 3: ContactsApiError(422, "invalid batch")}
    assert await run.apply().run(run.runs.record.import_id) == "failed"
    assert run.contacts.sent == [0, 1, 2, 3, 4]
    assert run.runs.recorded_order == [0, 1, 2, 3, 4]
    assert [run.runs.outcomes[r][1] for r in run.rows_of(2, 3)] == ["failed"] * 2 * BATCH_SIZE
    assert run.repository.batches_recorded_when_failed == 5
    assert run.contacts.applied == dict.fromkeys(run.rows_of(0, 1, 4), 1)
    run.assert_counts_add_up()


@pytest.mark.parametrize("depth", [2], indirect=True)
async def test_a_transient_error_in_batch_k_while_k_plus_1_was_applied_records_up_to_k_and_a_takeover_finishes(
    depth: int,
) -> None:
    run = _run(6)
    run.contacts.apply_yields = {3: 20}
    run.contacts.fail_after_applying = {3: ContactsApiError(503, "unavailable")}
    with pytest.raises(ContactsApiError):
        await run.apply().run(run.runs.record.import_id)
    assert run.runs.record.state == "running"
    assert run.runs.recorded_order == [0, 1, 2]
    assert run.contacts.applied_batches == [0, 1, 2, 4, 3]  # 4 and 3 applied, not recorded
    assert await run.apply("owner-2").run(run.runs.record.import_id) == "completed"
    assert run.contacts.sent == [0, 1, 2, 3, 4, 3, 4, 5]  # 3 and 4 resent: replayed
    run.assert_exactly_once()


@pytest.mark.parametrize("depth", [2], indirect=True)
@pytest.mark.parametrize("status", [None, 408, 409, 429, 500])
async def test_a_transient_error_in_batch_k_plus_1_records_k_and_a_takeover_finishes(
    depth: int, status: int | None
) -> None:
    run = _run(6)
    run.contacts.apply_yields = SLOW_EVEN  # batch 3 fails before batch 2 answers
    run.contacts.refuse = {3: ContactsApiError(status, "transient")}
    with pytest.raises(ContactsApiError):
        await run.apply().run(run.runs.record.import_id)
    assert run.runs.record.state == "running"
    assert run.runs.recorded_order == [0, 1, 2]
    run.assert_applied_batches_are_recorded()
    run.contacts.refuse = {}
    assert await run.apply("owner-2").run(run.runs.record.import_id) == "completed"
    run.assert_exactly_once()


@pytest.mark.parametrize("depth", [2], indirect=True)
async def test_a_refusal_beside_a_transient_error_stops_the_run_and_the_takeover_records_what_was_applied(
    depth: int,
) -> None:
    """k refused, k+1 applied but its answer lost (502): whether k+1 was applied is not known,
    so the run stops with nothing after k-1 recorded; the takeover resends k (refused again)
    and k+1 (replayed), records both, then fails the import."""
    run = _run(6)
    run.contacts.apply_yields = {2: 20}
    run.contacts.refuse = {2: ContactsApiError(422, "invalid batch")}
    run.contacts.fail_after_applying = {3: ContactsApiError(502, "bad gateway")}
    with pytest.raises(ContactsApiError) as raised:
        await run.apply().run(run.runs.record.import_id)
    assert raised.value.status == 502
    assert run.runs.record.state == "running"
    assert run.runs.recorded_order == [0, 1]
    assert await run.apply("owner-2").run(run.runs.record.import_id) == "failed"
    assert run.contacts.sent == [0, 1, 2, 3, 2, 3]
    assert run.runs.recorded_order == [0, 1, 2, 3]
    assert run.runs.record.error_code == "apply_rejected"
    assert run.repository.batches_recorded_when_failed == 4
    assert run.contacts.applied == dict.fromkeys(run.rows_of(0, 1, 3), 1)
    assert [run.runs.outcomes[r][1] for r in run.rows_of(2)] == ["failed"] * BATCH_SIZE
    run.assert_counts_add_up()


@pytest.mark.parametrize("depth", [2], indirect=True)
async def test_losing_the_lease_cancels_the_bulk_applies_in_flight_and_the_new_owner_finishes(depth: int) -> None:
    run = _run(6)
    run.runs.record_yields = {1: 10}
    run.runs.lose_lease_at = 1
    run.contacts.apply_yields = {2: 5, 3: 1000}  # batch 3 is still in flight when the run stops
    assert await run.apply().run(run.runs.record.import_id) == "running"
    assert run.runs.recorded_order == [0]
    assert run.contacts.cancelled == [3]
    assert run.contacts.in_flight == 0
    run.contacts.apply_yields = {}
    assert await run.apply("someone else").run(run.runs.record.import_id) == "completed"
    run.assert_exactly_once()


@pytest.mark.parametrize("depth", [2], indirect=True)
async def test_cancelling_the_run_cancels_every_bulk_apply_in_flight(depth: int) -> None:
    run = _run(6)
    run.contacts.apply_yields = {2: 10_000, 3: 10_000}
    applying = asyncio.create_task(run.apply().run(run.runs.record.import_id))
    await _yield(100)
    assert run.contacts.sent == [0, 1, 2, 3]
    assert run.contacts.in_flight == 2
    applying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await applying
    await _yield(5)
    assert sorted(run.contacts.cancelled) == [2, 3]
    assert run.contacts.in_flight == 0
    assert run.runs.recorded_order == [0, 1]
    run.contacts.apply_yields = {}
    assert await run.apply("owner-2").run(run.runs.record.import_id) == "completed"
    run.assert_exactly_once()
