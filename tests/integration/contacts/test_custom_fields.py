"""Custom field definitions and value validation: 422 naming the field."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.contacts.conftest import MakeAccount
from tests.integration.contacts.helpers import add_contact, add_custom_field


async def test_definitions_are_listed_and_checked(http: httpx.AsyncClient, make_account: MakeAccount) -> None:
    account = await make_account()
    await add_custom_field(http, account.headers, key="cpf", label="CPF", type="text")
    await add_custom_field(
        http,
        account.headers,
        key="porte",
        label="Porte",
        type="single_select",
        options=["Pequeno", "Médio"],
        required=False,
    )
    listed = (await http.get("/v1/custom-fields", headers=account.headers)).json()
    assert [f["key"] for f in listed] == ["cpf", "porte"]
    bad = [
        ({"key": "name", "label": "Nome", "type": "text"}, "key"),  # reserved
        ({"key": "x", "label": "X", "type": "single_select", "options": ["a, b"]}, "options"),
        ({"key": "y", "label": "Y", "type": "owner"}, "type"),
    ]
    for body, field in bad:
        response = await http.post("/v1/custom-fields", json=body, headers=account.headers)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"][-1] == field
    duplicate = await http.post(
        "/v1/custom-fields", json={"key": "cpf", "label": "CPF", "type": "text"}, headers=account.headers
    )
    assert duplicate.status_code == 409


@pytest.mark.parametrize(
    ("key", "field_type", "options", "value"),
    [
        ("funcionarios", "number", [], "muitos"),
        ("funcionarios", "number", [], 1.5),
        ("faturamento", "decimal", [], "1,5x"),
        ("fundacao", "date", [], "31/12/2020"),
        ("contato_em", "datetime", [], "2024-01-01T10:00:00"),  # no offset
        ("ativo", "boolean", [], "sim"),
        ("segmento", "single_select", ["Varejo"], "Atacado"),
        ("interesses", "multi_select", ["CRM"], ["CRM", "ERP"]),
        ("financeiro", "email", [], "sem-arroba"),
    ],
)
async def test_bad_values_are_422_naming_the_field(
    http: httpx.AsyncClient, make_account: MakeAccount, key: str, field_type: str, options: list[str], value: object
) -> None:
    account = await make_account()
    await add_custom_field(http, account.headers, key=key, label=key.title(), type=field_type, options=options)
    created = await http.post(
        "/v1/contacts", json={"name": "X", "custom_fields": {key: value}}, headers=account.headers
    )
    assert created.status_code == 422
    [error] = created.json()["detail"]
    assert error["loc"] == ["body", "custom_fields", key]
    assert key in error["msg"]
    contact = await add_contact(http, account.headers, name="Y")
    patched = await http.patch(
        f"/v1/contacts/{contact['id']}", json={"custom_fields": {key: value}}, headers=account.headers
    )
    assert patched.status_code == 422 and patched.json()["detail"][0]["loc"] == ["body", "custom_fields", key]


async def test_unknown_custom_field_and_bad_standard_values(http: httpx.AsyncClient, make_account: MakeAccount) -> None:
    account = await make_account()
    for body, loc in (
        ({"name": "X", "custom_fields": {"nao_existe": 1}}, ["body", "custom_fields", "nao_existe"]),
        ({"name": "X", "lifecycle_stage": "marte"}, ["body", "lifecycle_stage"]),
        ({"name": "X", "owner_id": 999_999_999}, ["body", "owner_id"]),
        ({"name": "X", "tags": ["a,b"]}, ["body", "tags"]),
        ({"name": "  "}, ["body", "name"]),
    ):
        response = await http.post("/v1/contacts", json=body, headers=account.headers)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == loc


async def test_required_custom_field(http: httpx.AsyncClient, make_account: MakeAccount) -> None:
    account = await make_account()
    await add_custom_field(http, account.headers, key="cpf", label="CPF", type="text", required=True)
    missing = await http.post("/v1/contacts", json={"name": "X"}, headers=account.headers)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "custom_fields", "cpf"]
    ok = await add_contact(http, account.headers, name="X", custom_fields={"cpf": "123.456.789-00"})
    cleared = await http.patch(
        f"/v1/contacts/{ok['id']}", json={"custom_fields": {"cpf": None}}, headers=account.headers
    )
    assert cleared.status_code == 422
