"""Account isolation through the public APIs: a file with another account's IDs creates
contacts in its own account and updates none of the other's; another account's imports
and exports are 404, as if they did not exist; no token or a wrong token is 401 on every
importer and export endpoint."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Services
from tests.e2e.test_spreadsheet_programs import export_via_api
from tests.support import journey
from tests.support.accounts import TestAccount, add_contacts, create_account, sample_contacts

pytestmark = pytest.mark.timeout(120)


class TwoAccounts:
    def __init__(self, a: TestAccount, b: TestAccount, a_contacts: list[dict[str, Any]]) -> None:
        self.a, self.b, self.a_contacts = a, b, a_contacts


@pytest.fixture(scope="module")
async def accounts(services: Services) -> TwoAccounts:
    a = await create_account(services.contacts.url)
    b = await create_account(services.contacts.url)
    return TwoAccounts(a, b, await add_contacts(services.contacts.url, a, sample_contacts(a, 3)))


async def a_versions(services: Services, two: TwoAccounts) -> list[tuple[int, int, str]]:
    return sorted((c["id"], c["version"], c["name"]) for c in await journey.all_contacts(services, two.a))


async def test_a_file_with_another_accounts_ids_creates_contacts_and_updates_none_of_theirs(
    services: Services, accounts: TwoAccounts
) -> None:
    before = await a_versions(services, accounts)
    rows = [
        ["ID", "Nome", "Jurídico"],
        *([str(c["id"]), f"Invasor {i}", "SIM"] for i, c in enumerate(accounts.a_contacts)),
    ]
    prepared = await journey.prepare(services, accounts.b, "de-outra-conta.csv", journey.write_ptbr_csv(rows))
    assert prepared.status_code == 201, prepared.text
    import_id = prepared.json()["import_id"]
    validated = await journey.confirm(services, accounts.b, import_id, {"fields": ["name", "legal_entity"]})
    counts = validated["counts"]
    assert (counts["to_create"], counts["to_update"], counts["errors"]) == (3, 0, 0), counts
    unknown = [
        i for i in await journey.feedback(services, accounts.b, import_id) if i["code"] == "new_contact_will_be_created"
    ]
    assert sorted(i["row"] for i in unknown) == [2, 3, 4]
    finished = await journey.start_and_finish(services, accounts.b, import_id)
    assert finished["result"] == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0}

    created = await journey.all_contacts(services, accounts.b)
    assert sorted(c["name"] for c in created) == ["Invasor 0", "Invasor 1", "Invasor 2"]
    assert not {c["id"] for c in created} & {c["id"] for c in accounts.a_contacts}
    assert await a_versions(services, accounts) == before
    async with httpx.AsyncClient(headers=accounts.b.headers, timeout=30) as http:
        for theirs in accounts.a_contacts:
            response = await http.get(f"{services.contacts.url}/v1/contacts/{theirs['id']}")
            assert response.status_code == 404, response.text


async def test_another_accounts_import_is_not_found(services: Services, accounts: TwoAccounts) -> None:
    rows = [["ID", "Nome"], [str(accounts.a_contacts[0]["id"]), "Nome Novo"]]
    prepared = await journey.prepare(services, accounts.a, "minha.csv", journey.write_ptbr_csv(rows))
    import_id = prepared.json()["import_id"]
    validated = await journey.confirm(services, accounts.a, import_id, {"fields": ["name"]})
    assert validated["ready_to_start"] is True
    before = await a_versions(services, accounts)

    base = f"{services.importer.url}/v1/imports/{import_id}"
    async with httpx.AsyncClient(headers=accounts.b.headers, timeout=30) as http:
        answers = {
            "get": await http.get(base),
            "confirm": await http.post(f"{base}/confirm", json={"fields": ["name"]}),
            "start": await http.post(f"{base}/start"),
            "feedback": await http.get(f"{base}/feedback"),
            "report": await http.get(f"{base}/report"),
        }
        listed = (await http.get(f"{services.importer.url}/v1/imports", params={"limit": 200})).json()["items"]
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    assert import_id not in {i["import_id"] for i in listed}
    view = await journey.get_import(services, accounts.a, import_id)
    assert view["state"] == "validated" and view["started_at"] is None  # B's start did nothing
    assert await a_versions(services, accounts) == before


async def test_another_accounts_export_is_not_found_and_ids_select_nothing_of_theirs(
    services: Services, accounts: TwoAccounts
) -> None:
    theirs, _ = await export_via_api(services, accounts.a, {"selection": {"all": True}, "format": "csv"})
    base = f"{services.export.url}/v1/exports/{theirs['export_id']}"
    async with httpx.AsyncClient(headers=accounts.b.headers, timeout=30) as http:
        assert (await http.get(base)).status_code == 404
        assert (await http.get(f"{base}/download")).status_code == 404
        listed = (await http.get(f"{services.export.url}/v1/exports", params={"limit": 200})).json()["items"]
        assert theirs["export_id"] not in {e["export_id"] for e in listed}
        # B asks for A's export id as its own: refused, never handed A's export.
        taken = await http.post(
            f"{services.export.url}/v1/exports",
            json={"export_id": theirs["export_id"], "selection": {"all": True}, "format": "csv"},
        )
        assert taken.status_code in (404, 409), taken.text

    a_ids = [c["id"] for c in accounts.a_contacts]
    mine, content = await export_via_api(services, accounts.b, {"selection": {"ids": a_ids}, "format": "csv"})
    rows = journey.read_ptbr_csv(content)
    assert mine["row_count"] == len(rows) - 1
    assert not {int(r[0]) for r in rows[1:]} & set(a_ids)


def _endpoints(services: Services) -> list[tuple[str, str, dict[str, Any]]]:
    some_id = uuid.uuid4()
    imports = f"{services.importer.url}/v1/imports"
    exports = f"{services.export.url}/v1/exports"
    return [
        ("POST", imports, {"files": {"file": ("c.csv", b"ID;Nome\r\n1;Ana\r\n")}}),
        ("GET", imports, {}),
        ("GET", f"{imports}/{some_id}", {}),
        ("POST", f"{imports}/{some_id}/confirm", {"json": {"fields": ["name"]}}),
        ("GET", f"{imports}/{some_id}/feedback", {}),
        ("GET", f"{imports}/{some_id}/report", {}),
        ("POST", f"{imports}/{some_id}/start", {}),
        ("POST", exports, {"json": {"selection": {"all": True}, "format": "csv"}}),
        ("GET", exports, {}),
        ("GET", f"{exports}/{some_id}", {}),
        ("GET", f"{exports}/{some_id}/download", {}),
    ]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-real-token", "Basic YW5hOnNlbmhh", "Bearer"],
    ids=["none", "wrong", "basic", "empty"],
)
async def test_every_importer_and_export_endpoint_wants_a_valid_token(
    services: Services, accounts: TwoAccounts, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    before = await a_versions(services, accounts)
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        answers = {
            f"{method} {url}": (await http.request(method, url, **kwargs)).status_code
            for method, url, kwargs in _endpoints(services)
        }
    assert answers == dict.fromkeys(answers, 401)
    assert await a_versions(services, accounts) == before
