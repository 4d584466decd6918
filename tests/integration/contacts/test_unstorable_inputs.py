"""Values PostgreSQL cannot take (text holding NUL, integers past bigint) are refused with a
422 naming them, or a failed row naming the field, never a 500: they used to fail in
asyncpg or in the server after validation (found by probing the running services)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.contacts_api import RowOutcomeKind
from shared.contacts_client import ContactsClient
from tests.integration.contacts.conftest import MakeAccount
from tests.integration.contacts.helpers import add_contact, add_custom_field, batch, create_row, update_row

PAST_BIGINT = 2**63
NUL_TEXT = "Ana\x00Souza"


async def _account_with_fields(http: httpx.AsyncClient, make_account: MakeAccount) -> Any:
    account = await make_account()
    await add_custom_field(http, account.headers, key="cpf", label="CPF", type="text")
    await add_custom_field(
        http, account.headers, key="interesses", label="Interesses", type="multi_select", options=["ERP", "CRM"]
    )
    return account


def _located(response: httpx.Response) -> list[tuple[str, ...]]:
    assert response.status_code == 422, response.text
    return [tuple(map(str, error["loc"])) for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("query", "where"),
    [
        (f"after_id={PAST_BIGINT}", ("query", "after_id")),
        (f"owner_ids={PAST_BIGINT}", ("query", "owner_ids", "0")),
        ("q=Ana%00", ("query", "q")),
        ("tags=vip%00", ("query", "tags", "0")),
        ("lifecycle_stages=lead%00", ("query", "lifecycle_stages", "0")),
        ("custom.cpf=123%00", ("query", "custom")),
    ],
)
async def test_list_filters_that_postgresql_cannot_take_are_422(
    http: httpx.AsyncClient, make_account: MakeAccount, query: str, where: tuple[str, ...]
) -> None:
    account = await _account_with_fields(http, make_account)
    response = await http.get(f"/v1/contacts?{query}", headers=account.headers)
    assert where in _located(response)


async def test_a_contact_id_past_bigint_is_422(http: httpx.AsyncClient, make_account: MakeAccount) -> None:
    account = await make_account()
    assert ("path", "contact_id") in _located(await http.get(f"/v1/contacts/{PAST_BIGINT}", headers=account.headers))
    patched = await http.patch(f"/v1/contacts/{PAST_BIGINT}", json={"name": "x"}, headers=account.headers)
    assert ("path", "contact_id") in _located(patched)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"name": NUL_TEXT}, ("body", "name")),
        ({"name": "Ana", "company": NUL_TEXT}, ("body", "company")),
        ({"name": "Ana", "tags": ["vip", NUL_TEXT]}, ("body", "tags")),
        ({"name": "Ana", "phones": ["+5511\x0098765-4321"]}, ("body", "phones")),
        ({"name": "Ana", "custom_fields": {"cpf": NUL_TEXT}}, ("body", "custom_fields", "cpf")),
        ({"name": "Ana", "custom_fields": {"interesses": ["ERP", "CRM\x00"]}}, ("body", "custom_fields", "interesses")),
    ],
)
async def test_contact_text_holding_nul_is_422_naming_the_field(
    http: httpx.AsyncClient, make_account: MakeAccount, body: dict[str, Any], where: tuple[str, ...]
) -> None:
    account = await _account_with_fields(http, make_account)
    created = await http.post("/v1/contacts", json=body, headers=account.headers)
    assert where in _located(created)
    assert "NUL" in created.text
    contact = await add_contact(http, account.headers, name="Bia")
    patched = await http.patch(f"/v1/contacts/{contact['id']}", json=body, headers=account.headers)
    assert where in _located(patched)
    unchanged = (await http.get(f"/v1/contacts/{contact['id']}", headers=account.headers)).json()
    assert unchanged["name"] == "Bia" and unchanged["version"] == 1


async def test_account_definitions_holding_nul_are_422(http: httpx.AsyncClient, make_account: MakeAccount) -> None:
    account = await make_account()
    user = await http.post("/v1/users", json={"name": NUL_TEXT, "email": "ana@ex.com"}, headers=account.headers)
    assert ("body", "name") in _located(user)
    for body, field in (
        ({"key": "obs", "label": "Obs\x00", "type": "text"}, "label"),
        ({"key": "seg", "label": "Seg", "type": "single_select", "options": ["A", "B\x00"]}, "options"),
    ):
        response = await http.post("/v1/custom-fields", json=body, headers=account.headers)
        assert ("body", field) in _located(response)


async def test_bulk_apply_fails_the_row_that_holds_nul_and_applies_the_others(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount
) -> None:
    account = await _account_with_fields(http, make_account)
    ana = await add_contact(http, account.headers, name="Ana")
    bia = await add_contact(http, account.headers, name="Bia")
    request = batch(
        [
            update_row(2, ana["id"], name=NUL_TEXT),
            update_row(3, bia["id"], cpf="123\x00"),
            create_row(4, name="Caio", cpf="456"),
        ],
        fields=["name", "cpf"],
    )
    outcomes = {o.row_number: o for o in (await contacts_client.bulk_apply(account.id, request)).outcomes}
    assert outcomes[2].outcome is RowOutcomeKind.FAILED and "name" in (outcomes[2].reason or "")
    assert outcomes[3].outcome is RowOutcomeKind.FAILED and "cpf" in (outcomes[3].reason or "")
    assert "NUL" in (outcomes[2].reason or "") and "NUL" in (outcomes[3].reason or "")
    assert outcomes[4].outcome is RowOutcomeKind.CREATED


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        (f"/internal/v1/accounts/{PAST_BIGINT}/context", None, ("path", "account_id")),
        ("/internal/v1/accounts/{account}/contacts/lookup", {"ids": [PAST_BIGINT]}, ("body", "ids", "0")),
        (
            "/internal/v1/accounts/{account}/contacts/lookup",
            {"ids": [1], "emails": ["a\x00@b.com"]},
            ("body", "emails", "0"),
        ),
        (
            "/internal/v1/accounts/{account}/selection/count",
            {"selection": {"ids": [PAST_BIGINT]}},
            ("body", "selection", "ids", "0"),
        ),
    ],
)
async def test_internal_routes_refuse_what_postgresql_cannot_take(
    internal: httpx.AsyncClient,
    make_account: MakeAccount,
    path: str,
    body: dict[str, Any] | None,
    where: tuple[str, ...],
) -> None:
    account = await make_account()
    url = path.format(account=account.id)
    response = await (internal.get(url) if body is None else internal.post(url, json=body))
    assert where in _located(response)
