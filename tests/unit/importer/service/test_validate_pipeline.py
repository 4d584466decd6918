"""The validation run's pipeline (validate_import) on in-memory fakes: batches read and
looked up ahead (`lookups_in_flight`). Whatever order the lookups answer in and however
long a store takes, batches are judged and stored in sheet order, one store at a time,
and the results are those of a run without any look-ahead. The fakes finish in a chosen
order by yielding to the event loop a chosen number of times: no timing is involved."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.importer.adapters.import_repository import ImportRecord
from services.importer.adapters.validation_store import ValidationRun, ValidationSuperseded
from services.importer.domain.readers import ReaderLimits
from services.importer.domain.validation import PendingBatch
from services.importer.service_layer.phase_clock import PhaseClock
from services.importer.service_layer.validate_import import ValidateImportHandler, _LookAhead
from shared.contacts_api import (
    AccountContext,
    ContactLookup,
    ContactLookupRequest,
    ContactRecord,
    LifecycleStage,
    Owner,
)
from shared.events import ValidateImport

ACCOUNT_ID = 41
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ROWS = 23  # data rows; batches of 2 rows


async def _yield(times: int) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


def _contact(contact_id: int) -> ContactRecord:
    return ContactRecord(
        id=contact_id,
        account_id=ACCOUNT_ID,
        name=f"Pessoa {contact_id}",
        emails=[f"p{contact_id}@x.com.br"],
        created_at=NOW,
        updated_at=NOW,
        version=1,
    )


CONTACTS = {i: _contact(i) for i in range(100, 100 + ROWS)}


def _csv() -> bytes:
    lines = ["ID;Nome;E-mail"]
    for n, contact_id in enumerate(CONTACTS):
        name, email = f"Pessoa {contact_id}", f"p{contact_id}@x.com.br"
        if n % 3 == 0:
            name += " Silva"  # an update
        if n == 7:
            email = "sem-arroba"  # an error
        if n == 11:
            contact_id = 999  # unknown: creates a contact
        if n == 15:
            contact_id = 101  # the ID of row 3 again
        lines.append(f"{contact_id};{name};{email}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _record() -> ImportRecord:
    fields: dict[str, Any] = {name: None for name in ImportRecord.__dataclass_fields__}
    fields.update(
        import_id=uuid.uuid4(),
        account_id=ACCOUNT_ID,
        requested_by="tests",
        file_name="c.csv",
        object_key="imports/x/upload",
        locale="pt-BR",
        state="validating",
        file_format="csv",
        header=["ID", "Nome", "E-mail"],
        sheet_locale="pt-BR",
        confirm_version=1,
        confirmed_columns={"0": "id", "1": "name", "2": "emails"},
        write_fields=["name", "emails"],
        options={},
        validation_attempt=0,
        ready_to_start=False,
        created_at=NOW,
        updated_at=NOW,
    )
    return ImportRecord(**fields)


@dataclass
class FakeRepository:
    record: ImportRecord

    async def get(self, account_id: int, import_id: uuid.UUID) -> ImportRecord:
        return self.record


@dataclass
class FakeResults:
    store_yields: list[int]  # the n-th store takes this many yields (cycled)
    superseded_at: int | None = None  # this store finds a newer run
    batches: list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]] = field(default_factory=list)
    storing: int = 0
    most_storing: int = 0
    finished: dict[str, Any] = field(default_factory=dict)

    async def begin(self, import_id: uuid.UUID, confirm_version: int) -> ValidationRun:
        return ValidationRun(import_id, confirm_version, 1)

    async def write_batch(self, run: ValidationRun, feedback: list[Any], planned: list[Any]) -> None:
        n = len(self.batches)
        self.storing += 1
        self.most_storing = max(self.most_storing, self.storing)
        try:
            await _yield(self.store_yields[n % len(self.store_yields)])
            if n == self.superseded_at:
                raise ValidationSuperseded(str(run.import_id))
            self.batches.append((list(feedback), list(planned)))
        finally:
            self.storing -= 1

    async def finish(self, run: ValidationRun, **summary: Any) -> None:
        self.finished = summary


@dataclass
class FakeFiles:
    content: bytes

    async def download_to_file(self, key: str, path: Path) -> None:
        path.write_bytes(self.content)


@dataclass
class FakeContacts:
    """Lookups answer later the earlier they were asked, when `reverse` is set."""

    reverse: bool = True
    asked: int = 0
    in_flight: int = 0
    most_in_flight: int = 0

    async def account_context(self, account_id: int) -> AccountContext:
        return AccountContext(
            account_id=account_id,
            name="Conta",
            owners=[Owner(id=1, name="Ana", email="ana@x.com.br")],
            lifecycle_stages=[LifecycleStage(key="lead", name="Lead", position=1)],
            custom_fields=[],
        )

    async def lookup(self, account_id: int, request: ContactLookupRequest) -> ContactLookup:
        n = self.asked
        self.asked += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await _yield(4 * (40 - n) if self.reverse else 1)
            return ContactLookup(contacts=[CONTACTS[i] for i in request.ids if i in CONTACTS])
        finally:
            self.in_flight -= 1


class FakeAnnouncer:
    validated_records: int = 0

    async def validated(self, record: ImportRecord) -> None:
        self.validated_records += 1

    async def outcome(self, record: ImportRecord) -> None:
        pass


async def _validate(
    tmp_path: Path, in_flight: int, store_yields: list[int], reverse: bool = True, superseded_at: int | None = None
) -> tuple[FakeResults, FakeContacts]:
    record = _record()
    results = FakeResults(store_yields, superseded_at)
    contacts = FakeContacts(reverse)
    handler = ValidateImportHandler(
        FakeRepository(record),  # type: ignore[arg-type]
        results,  # type: ignore[arg-type]
        FakeFiles(_csv()),
        contacts,
        FakeAnnouncer(),  # type: ignore[arg-type]
        ReaderLimits(),
        batch_rows=2,
        temp_dir=str(tmp_path),
        lookups_in_flight=in_flight,
    )
    await handler.handle(ValidateImport(account_id=ACCOUNT_ID, import_id=record.import_id, confirm_version=1))
    return results, contacts


async def test_results_are_those_of_a_run_without_look_ahead_whatever_order_lookups_and_stores_end_in(
    tmp_path: Path,
) -> None:
    expected, _ = await _validate(tmp_path, in_flight=1, store_yields=[0], reverse=False)
    assert expected.finished["counts"]["rows"] == ROWS
    assert expected.finished["counts"]["errors"] >= 2 and expected.finished["counts"]["to_create"] == 1
    for in_flight in (1, 2, 4):
        results, contacts = await _validate(tmp_path, in_flight, store_yields=[30, 0, 90, 5])
        assert results.batches == expected.batches, in_flight
        assert results.finished == expected.finished, in_flight
        assert results.most_storing == 1  # one store at a time, in order
        assert 1 < contacts.most_in_flight <= in_flight + 1  # while the current one is awaited
    seqs = [item[0] for feedback, _ in expected.batches for item in feedback]
    assert seqs == sorted(seqs) == list(range(len(seqs)))
    planned_rows = [row[0] for _, planned in expected.batches for row in planned]
    assert planned_rows == sorted(planned_rows)


async def test_a_superseded_store_ends_the_run_without_storing_later_batches(tmp_path: Path) -> None:
    results, _ = await _validate(tmp_path, in_flight=2, store_yields=[3, 0], superseded_at=4)
    assert len(results.batches) == 4  # stores 0-3; the 5th found a newer run; nothing after it
    assert results.finished == {}


class _Validator:
    def follow_up(self, batch: PendingBatch, lookup: ContactLookup) -> None:
        return None


@pytest.mark.parametrize("depth", [1, 2, 3])
async def test_look_ahead_hands_batches_out_in_order_with_at_most_depth_lookups_in_flight_while_judging(
    depth: int,
) -> None:
    contacts = FakeContacts(reverse=True)
    read = 0

    async def next_batch() -> PendingBatch | None:
        nonlocal read
        if read == 12:
            return None
        read += 1
        return PendingBatch(read - 1, [], ContactLookupRequest(ids=[100 + read - 1]))

    ahead = _LookAhead(contacts, ACCOUNT_ID, _Validator(), PhaseClock(), next_batch, depth)  # type: ignore[arg-type]
    handed: list[int] = []
    while (ready := await ahead.next()) is not None:
        batch, lookup = ready
        assert [c.id for c in lookup.contacts] == [100 + batch.number]  # its own answer
        assert contacts.in_flight <= depth  # while this batch is judged
        assert read - batch.number - 1 <= depth  # batches read and not judged
        handed.append(batch.number)
        await _yield(10)
    assert handed == list(range(12))
    assert contacts.most_in_flight == min(depth + 1, 12)
