from __future__ import annotations

import httpx

from tests.integration.contacts.conftest import MakeAccount


async def _custom_field(http: httpx.AsyncClient, headers: dict[str, str], **body: object) -> None:
    response = await http.post("/v1/custom-fields", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def test_create_read_patch_contact(http: httpx.AsyncClient, make_account: MakeAccount) -> None:
    account = await make_account()
    await _custom_field(
        http, account.headers, key="segmento", label="Segmento", type="single_select", options=["Varejo", "Indústria"]
    )
    created = await http.post(
        "/v1/contacts",
        json={
            "name": "Conceição Araújo",
            "emails": ["conceicao@exemplo.com.br"],
            "phones": ["+5511987654321"],
            "lifecycle_stage": "lead",
            "owner_id": account.owner_ids[0],
            "legal_entity": False,
            "tags": ["vip"],
            "custom_fields": {"segmento": "Varejo"},
        },
        headers=account.headers,
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["version"] == 1 and contact["account_id"] == account.id
    got = await http.get(f"/v1/contacts/{contact['id']}", headers=account.headers)
    assert got.json() == contact
    patched = await http.patch(
        f"/v1/contacts/{contact['id']}",
        json={"company": "Padaria São João", "custom_fields": {"segmento": "Indústria"}},
        headers=account.headers,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["version"] == 2
    assert body["company"] == "Padaria São João"
    assert body["custom_fields"] == {"segmento": "Indústria"}
    assert body["name"] == "Conceição Araújo"
