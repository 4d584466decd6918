"""The selection stream: id order, one snapshot while contacts change, bounded pages."""

from __future__ import annotations

import asyncpg
import httpx

from services.contacts.adapters import contact_reads
from services.contacts.domain.contact_filter import selection_where
from services.contacts.service_layer.selection_reads import stream_selection
from shared.contacts_client import ContactsClient, UnknownAccount
from shared.selection import Selection
from tests.integration.contacts.conftest import MakeAccount
from tests.integration.contacts.helpers import add_contact


async def test_stream_is_one_snapshot_while_contacts_change(
    http: httpx.AsyncClient, pool: asyncpg.Pool, make_account: MakeAccount, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    account = await make_account()
    ids = [(await add_contact(http, account.headers, name=f"S{i}"))["id"] for i in range(25)]
    monkeypatch.setattr(contact_reads, "STREAM_PREFETCH", 5)  # many cursor round trips
    where = selection_where(account.id, Selection(all=True), {}, "UTC")
    streamed = []
    async for record in stream_selection(pool, where):
        streamed.append(record)
        if len(streamed) == 3:
            # Changes after the stream started: a rename, a delete-like move, a new contact.
            await http.patch(f"/v1/contacts/{ids[-1]}", json={"name": "renomeado"}, headers=account.headers)
            await add_contact(http, account.headers, name="nova")
    assert [r.id for r in streamed] == ids
    assert streamed[-1].name == "S24" and streamed[-1].version == 1


async def test_stream_through_client_and_unknown_account(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    ids = [(await add_contact(http, account.headers, name=f"T{i}", tags=["t"]))["id"] for i in range(450)]
    records = [r async for r in contacts_client.stream_selection(account.id, Selection(all=True))]
    assert [r.id for r in records] == ids
    assert records[0].account_id == account.id and records[0].tags == ["t"]
    try:
        _ = [r async for r in contacts_client.stream_selection(987_654_321, Selection(all=True))]
    except UnknownAccount as error:
        assert "unknown account 987654321" in str(error)
    else:
        raise AssertionError("an unknown account must be refused")
