"""Bulk apply through the real client (shared/contacts_client.py) against the app."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import httpx
import pytest

from shared.contacts_api import RowOutcomeKind
from shared.contacts_client import ContactsClient, UnknownAccount
from tests.integration.contacts.conftest import MakeAccount
from tests.integration.contacts.helpers import add_contact, add_custom_field, batch, create_row, update_row


async def test_updates_creates_and_reports_each_row(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount, pool: asyncpg.Pool
) -> None:
    account = await make_account()
    await add_custom_field(
        http, account.headers, key="segmento", label="Segmento", type="single_select", options=["Varejo", "Indústria"]
    )
    a = await add_contact(http, account.headers, name="Ana", company="Velha", tags=["antiga"])
    b = await add_contact(http, account.headers, name="Bia", company="Igual")
    c = await add_contact(http, account.headers, name="Cid")
    request = batch(
        [
            # `name` is not among the batch's fields: it is never written.
            update_row(2, a["id"], company="Nova", name="IGNORADO", segmento="Varejo"),
            update_row(3, b["id"], company="Igual"),
            create_row(4, name="Caio Conceição", emails=["caio@ex.com.br"], owner=account.owner_ids[0]),
            update_row(5, a["id"] + 10_000_000, company="X"),
            update_row(6, c["id"], company="Y", segmento="Não existe"),
            create_row(7, company="Sem nome"),
        ],
        fields=["company", "segmento", "emails", "owner"],
        tag="importacao-1",
    )
    result = await contacts_client.bulk_apply(account.id, request)
    outcomes = {o.row_number: o for o in result.outcomes}
    assert not result.replayed
    assert outcomes[2].outcome is RowOutcomeKind.UPDATED
    assert outcomes[2].changed_fields == ["company", "tags", "segmento"]
    assert outcomes[3].outcome is RowOutcomeKind.UNCHANGED
    assert outcomes[5].outcome is RowOutcomeKind.FAILED and outcomes[5].reason == "contact not found"
    assert outcomes[6].outcome is RowOutcomeKind.FAILED and "segmento" in (outcomes[6].reason or "")
    assert outcomes[7].outcome is RowOutcomeKind.FAILED and "name" in (outcomes[7].reason or "")
    # `name` is not among the fields: the create has no name, so it fails.
    assert outcomes[4].outcome is RowOutcomeKind.FAILED and "name" in (outcomes[4].reason or "")
    untouched = (await http.get(f"/v1/contacts/{c['id']}", headers=account.headers)).json()
    assert untouched["version"] == 1 and untouched["company"] is None

    updated = (await http.get(f"/v1/contacts/{a['id']}", headers=account.headers)).json()
    assert updated["name"] == "Ana" and updated["company"] == "Nova"
    assert updated["tags"] == ["antiga", "importacao-1"] and updated["version"] == 2
    same = (await http.get(f"/v1/contacts/{b['id']}", headers=account.headers)).json()
    assert same["version"] == 1 and same["company"] == "Igual"

    async with pool.acquire() as conn:
        log = await conn.fetch(
            "SELECT field, old_value, new_value, import_id, row_number, cause FROM contact_changes "
            "WHERE contact_id = $1 AND import_id IS NOT NULL ORDER BY id",
            a["id"],
        )
    assert [(r["field"], r["old_value"], r["new_value"]) for r in log] == [
        ("company", "Velha", "Nova"),
        ("tags", ["antiga"], ["antiga", "importacao-1"]),
        ("segmento", None, "Varejo"),
    ]
    assert {(r["import_id"], r["row_number"], r["cause"]) for r in log} == {(request.import_id, 2, "user:1")}


async def test_create_gets_new_id_tag_and_change_log(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount, pool: asyncpg.Pool
) -> None:
    account = await make_account()
    request = batch(
        [
            create_row(
                2,
                name="Élida Simões",
                phones=["+5511987654321"],
                lifecycle_stage="cliente",
                owner=account.owner_ids[1],
                legal_entity=True,
                tags=["novo", "novo"],
            )
        ],
        fields=["name", "phones", "lifecycle_stage", "owner", "legal_entity", "tags"],
        tag="novo",
    )
    result = await contacts_client.bulk_apply(account.id, request)
    [outcome] = result.outcomes
    assert outcome.outcome is RowOutcomeKind.CREATED and outcome.contact_id
    record = (await contacts_client.lookup(account.id, _lookup([outcome.contact_id]))).contacts[0]
    assert record.tags == ["novo"] and record.owner_id == account.owner_ids[1]
    assert record.lifecycle_stage == "cliente" and record.legal_entity is True
    async with pool.acquire() as conn:
        fields = await conn.fetch(
            "SELECT field FROM contact_changes WHERE contact_id = $1 ORDER BY id", outcome.contact_id
        )
    assert [r["field"] for r in fields] == ["name", "phones", "lifecycle_stage", "owner", "legal_entity", "tags"]


def _lookup(ids: list[int]):  # type: ignore[no-untyped-def]
    from shared.contacts_api import ContactLookupRequest

    return ContactLookupRequest(ids=ids)


async def test_same_batch_twice_applies_once(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    a = await add_contact(http, account.headers, name="Ana")
    request = batch([update_row(2, a["id"], company="Uma vez"), create_row(3, name="Nova")], fields=["company", "name"])
    first = await contacts_client.bulk_apply(account.id, request)
    second = await contacts_client.bulk_apply(account.id, request)
    assert second.replayed and second.outcomes == first.outcomes
    record = (await http.get(f"/v1/contacts/{a['id']}", headers=account.headers)).json()
    assert record["version"] == 2
    page = (await http.get("/v1/contacts", headers=account.headers)).json()
    assert len(page["items"]) == 2


async def test_identical_batches_at_the_same_time_apply_once(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    request = batch([create_row(n, name=f"Pessoa {n}") for n in range(2, 52)], fields=["name"])
    results = await asyncio.gather(*(contacts_client.bulk_apply(account.id, request) for _ in range(4)))
    assert sorted(r.replayed for r in results) == [False, True, True, True]
    assert all(r.outcomes == results[0].outcomes for r in results)
    page = (await http.get("/v1/contacts?limit=500", headers=account.headers)).json()
    assert len(page["items"]) == 50


async def test_reused_key_with_other_rows_is_refused(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    first = batch([create_row(2, name="Um")], fields=["name"])
    await contacts_client.bulk_apply(account.id, first)
    other = batch([create_row(2, name="Dois")], fields=["name"], key=first.idempotency_key)
    with pytest.raises(Exception, match="409"):
        await contacts_client.bulk_apply(account.id, other)


async def test_concurrent_batches_on_overlapping_contacts_lose_no_update(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    await add_custom_field(http, account.headers, key="nota", label="Nota", type="text")
    ids = [(await add_contact(http, account.headers, name=f"C{i}"))["id"] for i in range(20)]
    # Each batch writes a different field of the same contacts, in a different row order.
    company = batch(
        [update_row(i + 2, cid, company=f"Empresa {i}") for i, cid in enumerate(ids)], fields=["company"], tag="a"
    )
    title = batch(
        [update_row(i + 2, cid, job_title=f"Cargo {i}") for i, cid in enumerate(reversed(ids))],
        fields=["job_title"],
        tag="b",
    )
    note = batch([update_row(i + 2, cid, nota=f"Nota {i}") for i, cid in enumerate(ids[5:])], fields=["nota"])
    await asyncio.gather(*(contacts_client.bulk_apply(account.id, r) for r in (company, title, note)))
    records = (await contacts_client.lookup(account.id, _lookup(ids))).contacts
    for record in records:
        assert record.company and record.job_title
        assert sorted(record.tags) == ["a", "b"]
        expected_version = 4 if record.id in ids[5:] else 3
        assert record.version == expected_version


async def test_version_and_updated_at_conflicts_are_not_written(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    a = await add_contact(http, account.headers, name="Ana")
    b = await add_contact(http, account.headers, name="Bia")
    c = await add_contact(http, account.headers, name="Cid")
    await http.patch(f"/v1/contacts/{a['id']}", json={"company": "mudou"}, headers=account.headers)
    b_changed = (await http.patch(f"/v1/contacts/{b['id']}", json={"company": "mudou"}, headers=account.headers)).json()
    rows = [
        update_row(2, a["id"], job_title="X"),
        update_row(3, b["id"], job_title="X"),
        update_row(4, c["id"], job_title="X"),
    ]
    rows[0].expected_version = 1
    from datetime import datetime

    rows[1].expected_updated_at = datetime.fromisoformat(b["updated_at"]) - timedelta(seconds=2)
    # Same second as stored (sub-second part dropped, as a spreadsheet shows it): no conflict.
    rows[2].expected_updated_at = datetime.fromisoformat(c["updated_at"]).replace(microsecond=0)
    result = await contacts_client.bulk_apply(account.id, batch(rows, fields=["job_title"]))
    kinds = [o.outcome for o in result.outcomes]
    assert kinds == [RowOutcomeKind.CONFLICT, RowOutcomeKind.CONFLICT, RowOutcomeKind.UPDATED]
    assert (await http.get(f"/v1/contacts/{b['id']}", headers=account.headers)).json() == b_changed


async def test_unknown_account_is_reported_as_such(contacts_client: ContactsClient) -> None:
    with pytest.raises(UnknownAccount):
        await contacts_client.bulk_apply(987_654_321, batch([create_row(2, name="x")], fields=["name"]))
