"""Confirm → validation feedback at the exact rows → start → each row applied once."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

from openpyxl import load_workbook

from shared import topics
from shared.events import StartImport, ValidateImport
from shared.kafka import publish_event
from shared.topics import IMPORT_VALIDATE
from tests.integration.importer.conftest import APPLY_BATCH_SIZE, Importer
from tests.integration.importer.sheets import HEADER_PT, csv_bytes, xlsx_bytes

CONFIRM_ALL = {"fields": ["name", "emails", "lifecycle_stage", "legal_entity"]}


async def _prepared(importer: Importer, headers: dict[str, str], content: bytes, name: str = "c.csv") -> str:
    response = await importer.upload(headers, content, name=name)
    assert response.status_code == 201, response.text
    return str(response.json()["import_id"])


def _where(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(i["row"], i["code"], i["severity"], i["field"]) for i in items]


async def test_validation_feedback_names_the_rows_and_start_applies_each_row_once(importer: Importer) -> None:
    account_id, headers = importer.account()
    fake = importer.contacts
    ana = fake.add_contact(account_id, "Ana", emails=["ana@x.com.br"], lifecycle_stage="lead", legal_entity=False)
    bruno = fake.add_contact(account_id, "Bruno", emails=["bruno@x.com.br"], lifecycle_stage="lead", legal_entity=True)
    caio = fake.add_contact(account_id, "Caio", emails=["caio@x.com.br"], lifecycle_stage="customer", legal_entity=True)
    others = [fake.add_contact(account_id, f"Pessoa {i}", lifecycle_stage="lead", legal_entity=False) for i in range(5)]
    rows = [
        HEADER_PT,
        [ana.id, "Ana Maria", "ana@x.com.br", "Lead", "NÃO"],  # 2: update name
        [bruno.id, "Bruno", "bruno-sem-arroba", "Lead", "SIM"],  # 3: invalid email
        ["", "Carla", "carla@x.com.br", "Cliente", "NÃO"],  # 4: new contact
        [caio.id, "Caio", "caio@x.com.br", "Cliente", "SIM"],  # 5: unchanged
        *[[c.id, f"{c.name} Silva", "", "Lead", "NÃO"] for c in others],  # 6-10: updates
    ]
    import_id = await _prepared(importer, headers, csv_bytes(rows))

    view = await importer.confirm(import_id, headers, {**CONFIRM_ALL, "tag": "importacao-nov"})
    assert view["state"] == "validated"
    assert view["ready_to_start"] is False  # an error, and errors are not skipped
    counts = view["counts"]
    assert (counts["rows"], counts["errors"], counts["to_create"], counts["to_update"], counts["unchanged"]) == (
        9, 1, 1, 6, 1,
    )  # fmt: skip
    assert counts["field_changes"]["name"] == 7  # 6 updates and the new contact
    items = await importer.feedback(import_id, headers)
    assert _where(items) == [
        (None, "recommended_column_missing", "warning", "owner"),
        (3, "invalid_email", "error", "emails"),
        (4, "new_contact_will_be_created", "warning", "id"),
    ]
    assert items[1]["header"] == "E-mail" and items[1]["value"] == "bruno-sem-arroba"
    assert items[1]["message"].startswith('Linha 3, coluna "E-mail": o e-mail')
    errors_en = await importer.feedback(import_id, {**headers, "Accept-Language": "en"}, severity="error")
    assert [i["row"] for i in errors_en] == [3] and errors_en[0]["message"].startswith("Row 3")
    first = await importer.http.get(f"/v1/imports/{import_id}/feedback", headers=headers, params={"limit": 2})
    rest = await importer.http.get(
        f"/v1/imports/{import_id}/feedback", headers=headers, params={"cursor": first.json()["next_cursor"]}
    )
    assert [i["row"] for i in first.json()["items"] + rest.json()["items"]] == [None, 3, 4]

    report = await importer.http.get(f"/v1/imports/{import_id}/report", headers=headers)
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][-1] == "Mensagens"
    assert "e-mail" in values[2][-1] and values[1][-1] is None

    # Not ready: start does nothing. Re-confirm skipping error rows: ready.
    refused = (await importer.http.post(f"/v1/imports/{import_id}/start", headers=headers)).json()
    assert refused["accepted"] is False
    view = await importer.confirm(
        import_id, headers, {**CONFIRM_ALL, "tag": "importacao-nov", "options": {"skip_error_rows": True}}
    )
    assert view["ready_to_start"] is True
    assert len(await importer.feedback(import_id, headers)) == 3  # re-validation replaced, not added

    calls_before = fake.bulk_apply_calls
    for _ in range(2):  # a repeated start
        started = await importer.http.post(f"/v1/imports/{import_id}/start", headers=headers)
        assert started.status_code == 202
    view = await importer.wait_state(import_id, headers, ("completed", "completed_with_errors", "failed"))
    assert view["state"] == "completed", view
    assert view["result"] == {"created": 1, "updated": 6, "unchanged": 1, "skipped": 1, "failed": 0}
    batches = -(-7 // APPLY_BATCH_SIZE)
    assert fake.bulk_apply_calls - calls_before == batches

    # A redelivered start command after the end: nothing new.
    command = StartImport(account_id=account_id, import_id=uuid.UUID(import_id), requested_by="test")
    await publish_event(importer.deps.broker, "/test", topics.IMPORT_START, import_id, command)
    await asyncio.sleep(1.5)
    assert fake.bulk_apply_calls - calls_before == batches

    changes = fake.changes_of(import_id)
    per_row: dict[tuple[int | None, str], int] = {}
    for change in changes:
        per_row[(change.row_number, change.field)] = per_row.get((change.row_number, change.field), 0) + 1
    assert all(n == 1 for n in per_row.values()), per_row
    assert {row for row, _ in per_row} == {2, 4, 6, 7, 8, 9, 10}
    assert fake.contacts[ana.id].name == "Ana Maria"
    assert fake.contacts[bruno.id].emails == ["bruno@x.com.br"]  # its row had an error
    assert "importacao-nov" in fake.contacts[ana.id].tags


async def test_a_bad_confirmation_is_refused_naming_the_problem(importer: Importer) -> None:
    _, headers = importer.account()
    import_id = await _prepared(importer, headers, csv_bytes([["Nome", "Apelido"], ["Ana", "Aninha"]]))
    cases = [
        ({"fields": {"0": "name", "1": "campo_que_nao_existe"}}, "unknown_field"),
        ({"fields": {"0": "name", "1": "name"}}, "field_mapped_twice"),
        ({"fields": ["name"], "options": {"unknown_id": "error"}}, "no_id_column"),
        ({"fields": ["emails"]}, "field_not_in_sheet"),
        ({"fields": ["name"], "tag": "a,b"}, "invalid_tag"),
    ]
    for body, code in cases:
        response = await importer.http.post(f"/v1/imports/{import_id}/confirm", headers=headers, json=body)
        assert response.status_code == 422, (body, response.text)
        assert code in [p["code"] for p in response.json()["problems"]], response.text
    view = (await importer.http.get(f"/v1/imports/{import_id}", headers=headers)).json()
    assert view["state"] == "prepared"


async def test_a_confirmed_mapping_is_suggested_again_for_the_same_headers(importer: Importer) -> None:
    _, headers = importer.account()
    content = xlsx_bytes([["Nome", "Apelido"], ["Ana", "Aninha"]])
    import_id = await _prepared(importer, headers, content, "a.xlsx")
    await importer.confirm(import_id, headers, {"fields": {"1": "company", "0": "name"}})
    again = (await importer.upload(headers, content, name="b.xlsx")).json()
    assert [(c["suggested_field"], c["source"]) for c in again["columns"]] == [
        ("name", "remembered"), ("company", "remembered"),
    ]  # fmt: skip


async def test_a_file_with_another_accounts_ids_updates_none_of_them(importer: Importer) -> None:
    owner_id, _ = importer.account()
    victim = importer.contacts.add_contact(owner_id, "Vítima", lifecycle_stage="lead", legal_entity=False)
    _, headers = importer.account()
    content = csv_bytes([HEADER_PT, [victim.id, "Hackeado", "", "Lead", "NÃO"]])
    import_id = await _prepared(importer, headers, content)
    await importer.confirm(import_id, headers, CONFIRM_ALL)
    items = await importer.feedback(import_id, headers, row=2)
    assert [i["code"] for i in items] == ["new_contact_will_be_created"]  # unknown, never a match
    await importer.http.post(f"/v1/imports/{import_id}/start", headers=headers)
    view = await importer.wait_state(import_id, headers, ("completed", "completed_with_errors", "failed"))
    assert view["result"]["created"] == 1 and view["result"]["updated"] == 0
    assert importer.contacts.contacts[victim.id].name == "Vítima"
    assert all(c.contact_id != victim.id for c in importer.contacts.changes_of(import_id))


async def test_a_redelivered_validate_command_replaces_the_results(importer: Importer) -> None:
    _, headers = importer.account()
    import_id = await _prepared(importer, headers, csv_bytes([["Nome", "E-mail"], ["Ana", "x"], ["Bia", "y"]]))
    view = await importer.confirm(import_id, headers, {"fields": ["name", "emails"]})
    record = await importer.deps.repository.get(view["counts"] and _account(headers), uuid.UUID(import_id))
    assert record is not None
    # As if the command came again before its offset was committed.
    async with importer.pool.acquire() as conn:
        await conn.execute("UPDATE imports SET state = 'validating' WHERE import_id = $1", record.import_id)
    command = ValidateImport(
        account_id=record.account_id, import_id=record.import_id, confirm_version=record.confirm_version
    )
    await publish_event(importer.deps.broker, "/test", IMPORT_VALIDATE, import_id, command)
    again = await importer.wait_state(import_id, headers, ("validated",))
    assert again["counts"] == view["counts"]
    assert len(await importer.feedback(import_id, headers, severity="error")) == 2


def _account(headers: dict[str, str]) -> int:
    return int(headers["Authorization"].rsplit("-", 1)[1])
