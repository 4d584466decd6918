"""The export service end to end on the real stack: HTTP or Kafka request → file in S3
→ ready event → download by the pre-signed URL with a plain HTTP client."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import httpx
import openpyxl
import pytest

from shared import topics
from shared.cells import unescape_formula
from shared.cloudevents import event_body, kafka_headers, make_event
from shared.events import ExportRequested
from tests.conftest import Services
from tests.support.accounts import TestAccount, add_contacts, create_account, sample_contacts
from tests.support.events import EventWatcher

pytestmark = pytest.mark.timeout(180)
OUTCOMES = (topics.EXPORT_READY, topics.EXPORT_FAILED)


@pytest.fixture
async def account_with_contacts(services: Services) -> tuple[TestAccount, list[dict[str, Any]]]:
    account = await create_account(services.contacts.url)
    contacts = await add_contacts(services.contacts.url, account, sample_contacts(account, 12))
    return account, contacts


async def _export(services: Services, account: TestAccount, body: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    async with EventWatcher(OUTCOMES) as watcher, httpx.AsyncClient(headers=account.headers) as http:
        response = await http.post(f"{services.export.url}/v1/exports", json=body)
        assert response.status_code == 202, response.text
        export_id = response.json()["export_id"]
        event = await watcher.wait_for_any(OUTCOMES, export_id)
        assert event.topic == topics.EXPORT_READY, event.body
        assert event.headers["content-type"] == "application/cloudevents+json"
        assert event.body["type"] == topics.EXPORT_READY and event.body["specversion"] == "1.0"
        download = await _plain_get(event.data["download_url"])
        assert download.status_code == 200
        assert len(download.content) == event.data["size_bytes"]
        return event.data, download.content


async def _plain_get(url: str) -> httpx.Response:
    """As a browser or curl would fetch a pre-signed URL: no credentials of ours."""
    async with httpx.AsyncClient() as plain:
        return await plain.get(url)


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "pt-BR CSV starts with a UTF-8 BOM"
    assert b"\r\n" in content
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


async def test_csv_export_of_ids_holds_exactly_those_contacts_in_id_order(services: Services, account_with_contacts):
    account, contacts = account_with_contacts
    chosen = sorted(c["id"] for c in contacts[::2])
    data, content = await _export(services, account, {"selection": {"ids": list(reversed(chosen))}, "format": "csv"})
    rows = _csv_rows(content)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["ID", "Nome", "E-mail"]
    assert "Sessão (Ciclo de vida)" in header and "Atualizado em" in header and "CPF/CNPJ" in header
    assert [int(r[0]) for r in body] == chosen
    assert data["row_count"] == len(chosen)
    assert data["file_name"].startswith("contatos-") and data["file_name"].endswith(".csv")
    by_id = {c["id"]: c for c in contacts}
    column = {name: i for i, name in enumerate(header)}
    for row in body:
        contact = by_id[int(row[0])]
        assert row[column["Nome"]] == contact["name"]
        assert row[column["E-mail"]] == ", ".join(contact["emails"])
        assert unescape_formula(row[column["Empresa"]]) == contact["company"]
        assert row[column["Cargo"]] == contact["job_title"]
        assert row[column["Jurídico"]] == ("SIM" if contact["legal_entity"] else "NÃO")
        assert unescape_formula(row[column["CPF/CNPJ"]]) == contact["custom_fields"]["cpf_cnpj"]
        assert row[column["Observações"]] == contact["custom_fields"]["observacoes"]
        assert row[column["Faturamento"]] == contact["custom_fields"]["faturamento"].replace(".", ",")
        yyyy, mm, dd = contact["custom_fields"]["aniversario"].split("-")
        assert row[column["Aniversário"]] == f"{dd}/{mm}/{yyyy}"
        assert row[column["Segmento"]] == contact["custom_fields"]["segmento"]
    formula_like = [r[column["Empresa"]] for r in body if r[column["Empresa"]][:1] in "=+-@"]
    assert formula_like == [], "no exported cell may start like a formula"


async def test_all_but_these_and_filter_selections(services: Services, account_with_contacts):
    account, contacts = account_with_contacts
    excluded = [contacts[0]["id"], contacts[5]["id"]]
    _, content = await _export(services, account, {"selection": {"all": True, "exclude_ids": excluded}})
    ids = [int(r[0]) for r in _csv_rows(content)[1:]]
    assert ids == sorted(c["id"] for c in contacts if c["id"] not in excluded)

    _, content = await _export(
        services, account, {"selection": {"filter": {"legal_entity": True}, "exclude_ids": [contacts[1]["id"]]}}
    )
    ids = [int(r[0]) for r in _csv_rows(content)[1:]]
    assert ids == sorted(c["id"] for c in contacts if c["legal_entity"] and c["id"] != contacts[1]["id"])


async def test_xlsx_export_is_typed_and_carries_its_field_keys(services: Services, account_with_contacts):
    account, contacts = account_with_contacts
    data, content = await _export(
        services, account, {"selection": {"all": True}, "format": "xlsx", "fields": ["name", "phones", "funcionarios"]}
    )
    assert data["file_name"].endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("ID", "Nome", "Telefone", "Funcionários")
    first = min(contacts, key=lambda c: c["id"])
    assert rows[1][0] == str(first["id"]), "IDs are text cells, never numbers Excel could mangle"
    assert rows[1][2] == first["phones"][0]
    assert rows[1][3] == first["custom_fields"]["funcionarios"]
    meta = workbook["crm_bulk_meta"]
    assert meta.sheet_state == "veryHidden"
    assert meta["B2"].value == data["export_id"]
    assert [c.value for c in meta[3][1:5]] == ["id", "name", "phones", "funcionarios"]


async def test_repeated_request_is_one_export_one_file_one_event(services: Services, account_with_contacts):
    account, _ = account_with_contacts
    export_id = str(uuid.uuid4())
    body = {"selection": {"all": True}, "format": "csv", "export_id": export_id}
    async with EventWatcher(OUTCOMES) as watcher, httpx.AsyncClient(headers=account.headers) as http:
        for _ in range(3):
            response = await http.post(f"{services.export.url}/v1/exports", json=body)
            assert response.status_code == 202
        await watcher.wait_for(topics.EXPORT_READY, export_id)
        listing = await http.get(f"{services.export.url}/v1/exports")
        # Give the two repeats time to be consumed before counting announcements.
        await _settle(http, services, export_id)
        assert len(watcher.events(topics.EXPORT_READY, export_id)) == 1
        assert [e["export_id"] for e in listing.json()["items"]].count(export_id) == 1


async def _settle(http: httpx.AsyncClient, services: Services, export_id: str) -> None:
    import asyncio

    await asyncio.sleep(3)
    response = await http.get(f"{services.export.url}/v1/exports/{export_id}")
    assert response.json()["state"] == "ready"


async def test_unknown_account_and_unknown_fields_fail_with_an_event(services: Services, account_with_contacts):
    account, _ = account_with_contacts
    from aiokafka import AIOKafkaProducer

    from tests.support.stack import KAFKA_BOOTSTRAP

    unknown = ExportRequested(
        account_id=987_654_321,
        export_id=uuid.uuid4(),
        requested_by="test",
        format="csv",
        selection={"all": True},
    )
    async with EventWatcher(OUTCOMES) as watcher:
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP)
        await producer.start()
        try:
            event = make_event("/tests", topics.EXPORT_REQUESTED, str(unknown.export_id), unknown)
            await producer.send_and_wait(
                topics.EXPORT_REQUESTED,
                event_body(event),
                key=str(unknown.export_id).encode(),
                headers=[(k, v.encode()) for k, v in kafka_headers().items()],
            )
        finally:
            await producer.stop()
        failed = await watcher.wait_for(topics.EXPORT_FAILED, str(unknown.export_id))
        assert failed.data["code"] == "unknown_account"

        async with httpx.AsyncClient(headers=account.headers) as http:
            response = await http.post(
                f"{services.export.url}/v1/exports", json={"selection": {"all": True}, "fields": ["name", "nope"]}
            )
            export_id = response.json()["export_id"]
            failed = await watcher.wait_for(topics.EXPORT_FAILED, export_id)
            assert failed.data["code"] == "unknown_fields" and "nope" in failed.data["message"]
            state = (await http.get(f"{services.export.url}/v1/exports/{export_id}")).json()
            assert state["state"] == "failed" and state["error_code"] == "unknown_fields"


async def test_accounts_are_isolated(services: Services, account_with_contacts):
    account_a, contacts_a = account_with_contacts
    account_b = await create_account(services.contacts.url)
    data, content = await _export(services, account_b, {"selection": {"ids": [c["id"] for c in contacts_a]}})
    assert data["row_count"] == 0 and len(_csv_rows(content)) == 1
    async with httpx.AsyncClient() as http:
        mine = await http.post(
            f"{services.export.url}/v1/exports", json={"selection": {"all": True}}, headers=account_a.headers
        )
        export_id = mine.json()["export_id"]
        theirs = await http.get(f"{services.export.url}/v1/exports/{export_id}", headers=account_b.headers)
        assert theirs.status_code == 404
        download = await http.get(f"{services.export.url}/v1/exports/{export_id}/download", headers=account_b.headers)
        assert download.status_code == 404
        listing = await http.get(f"{services.export.url}/v1/exports", headers=account_b.headers)
        assert export_id not in json.dumps(listing.json())
        assert (await http.get(f"{services.export.url}/v1/exports")).status_code == 401
        wrong = {"Authorization": "Bearer not-a-token"}
        assert (await http.get(f"{services.export.url}/v1/exports", headers=wrong)).status_code == 401


async def test_download_redirects_to_a_fresh_presigned_url(services: Services, account_with_contacts):
    account, _ = account_with_contacts
    data, content = await _export(services, account, {"selection": {"all": True}})
    async with httpx.AsyncClient(headers=account.headers) as http:
        response = await http.get(f"{services.export.url}/v1/exports/{data['export_id']}/download")
        assert response.status_code == 307
        again = await _plain_get(response.headers["location"])
        assert again.status_code == 200 and again.content == content
