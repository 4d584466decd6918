"""Account B's token never reaches account A's contacts, whatever ids it sends."""

from __future__ import annotations

import httpx

from shared.contacts_api import ContactLookupRequest, RowOutcomeKind
from shared.contacts_client import ContactsClient
from shared.selection import Selection
from tests.integration.contacts.conftest import MakeAccount
from tests.integration.contacts.helpers import add_contact, batch, update_row


async def test_other_accounts_contacts_are_not_found(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount
) -> None:
    a, b = await make_account(), await make_account()
    secret = await add_contact(http, a.headers, name="Segredo de A", emails=["a@a.com.br"])
    sid = secret["id"]
    assert (await http.get(f"/v1/contacts/{sid}", headers=b.headers)).status_code == 404
    patch = await http.patch(f"/v1/contacts/{sid}", json={"name": "hack"}, headers=b.headers)
    assert patch.status_code == 404
    assert (await http.get("/v1/contacts?q=segredo", headers=b.headers)).json()["items"] == []
    assert await contacts_client.count_selection(b.id, Selection(ids=[sid])) == 0
    assert [c async for c in contacts_client.stream_selection(b.id, Selection(all=True))] == []
    lookup = await contacts_client.lookup(b.id, ContactLookupRequest(ids=[sid], emails=["a@a.com.br"]))
    assert lookup.contacts == [] and lookup.email_owners == {}
    result = await contacts_client.bulk_apply(b.id, batch([update_row(2, sid, name="hack")], fields=["name"]))
    assert result.outcomes[0].outcome is RowOutcomeKind.FAILED
    assert result.outcomes[0].reason == "contact not found"
    # B's owners are not A's: an owner id of another account is refused.
    bad_owner = await http.patch(f"/v1/contacts/{sid}", json={"owner_id": b.owner_ids[0]}, headers=a.headers)
    assert bad_owner.status_code == 422
    unchanged = (await http.get(f"/v1/contacts/{sid}", headers=a.headers)).json()
    assert unchanged == secret


async def test_tokens_are_required_and_checked(http: httpx.AsyncClient, make_account: MakeAccount) -> None:
    account = await make_account()
    assert (await http.get("/v1/contacts")).status_code == 401
    wrong = {"Authorization": "Bearer crmb_nao-existe"}
    assert (await http.get("/v1/contacts", headers=wrong)).status_code == 401
    assert (await http.get("/v1/users", headers=account.headers)).status_code == 200
    # A user token is not the internal token.
    assert (await http.get("/internal/v1/ping", headers=account.headers)).status_code == 401


async def test_revoked_token_stops_working(http: httpx.AsyncClient, make_account: MakeAccount, pool) -> None:  # type: ignore[no-untyped-def]
    from services.contacts.adapters import accounts_store

    account = await make_account()
    async with pool.acquire() as conn:
        found = await accounts_store.introspect_token(conn, account.token)
        assert found is not None
        assert await accounts_store.revoke_token(conn, found.token_id)
    assert (await http.get("/v1/contacts", headers=account.headers)).status_code == 401


async def test_internal_client_contract(contacts_client: ContactsClient, make_account: MakeAccount) -> None:
    account = await make_account()
    assert await contacts_client.is_ready()
    found = await contacts_client.introspect_token(account.token)
    assert found is not None and found.account_id == account.id
    assert await contacts_client.introspect_token("crmb_wrong") is None
    context = await contacts_client.account_context(account.id)
    assert [s.key for s in context.lifecycle_stages][:1] == ["lead"]
    assert [o.id for o in context.owners] == account.owner_ids
    assert context.locale == "pt-BR" and context.timezone == "America/Sao_Paulo"
