"""Date ranges bound the id walk by the smallest id in range (contact_filter.py,
`_add_date_range`): the bound must never drop a contact, even when ids and dates
disagree (a contact created later with a smaller id), whichever way it is found: from
the GiST index for created_at; among the first ids, or from the btree, for updated_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from services.contacts.domain import contact_filter
from shared.contacts_client import ContactsClient
from shared.selection import ContactFilter, Selection
from tests.integration.contacts.conftest import AccountRef, MakeAccount
from tests.integration.contacts.helpers import add_contact

BASE = datetime(2024, 3, 1, 12, tzinfo=UTC)
# Day of each contact's created_at and updated_at, in id order. Ids and dates disagree:
# c1 has the second smallest id and was created late; c4 was edited on day 40.
DAYS = {
    "c0": (5, 5),
    "c1": (50, 50),
    "c2": (10, 10),
    "c3": (20, 25),
    "c4": (30, 40),
    "c5": (31, 31),
    "c6": (60, 61),
}


def day(n: float) -> datetime:
    return BASE + timedelta(days=n)


@pytest.fixture
async def dated(http: httpx.AsyncClient, pool: asyncpg.Pool, make_account: MakeAccount) -> tuple[AccountRef, dict]:
    account = await make_account()
    ids = {name: (await add_contact(http, account.headers, name=name))["id"] for name in DAYS}
    async with pool.acquire() as conn:
        for name, (created, updated) in DAYS.items():
            await conn.execute(
                "UPDATE contacts SET created_at = $2, updated_at = $3 WHERE id = $1",
                ids[name],
                day(created),
                day(updated),
            )
    return account, ids


def _query(**bounds: float) -> str:
    return "&".join(f"{key}={quote(day(value).isoformat())}" for key, value in bounds.items())


@pytest.mark.parametrize("head_rows", [1000, 1], ids=["bound-from-first-ids", "bound-from-index"])
@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"created_from": 25}, ["c1", "c4", "c5", "c6"]),  # c1: a small id, created late
        ({"created_from": 45, "created_to": 55}, ["c1"]),
        ({"created_from": 11, "created_to": 30.5}, ["c3", "c4"]),
        ({"created_from": 61}, []),  # after the newest: nothing, and at once
        ({"created_to": 20}, ["c0", "c2", "c3"]),
        ({"updated_from": 35}, ["c1", "c4", "c6"]),
        ({"updated_from": 24, "updated_to": 26}, ["c3"]),
        ({"created_from": 15, "updated_to": 45}, ["c3", "c4", "c5"]),
        ({"created_from": 0, "updated_from": 0}, list(DAYS)),
    ],
)
async def test_date_ranges_find_every_contact_in_range(
    http: httpx.AsyncClient,
    dated: tuple[AccountRef, dict],
    monkeypatch: pytest.MonkeyPatch,
    head_rows: int,
    bounds: dict[str, float],
    expected: list[str],
) -> None:
    # 1: the head is c0 alone, out of most ranges above, so the bound of an updated range
    # comes from the (account_id, updated_at, id) index.
    monkeypatch.setattr(contact_filter, "_HEAD_ROWS", head_rows)
    account, ids = dated
    response = await http.get(f"/v1/contacts?limit=500&{_query(**bounds)}", headers=account.headers)
    assert response.status_code == 200, response.text
    assert [c["id"] for c in response.json()["items"]] == sorted(ids[name] for name in expected)


async def test_pages_after_an_id_and_selection_reads_keep_the_range(
    http: httpx.AsyncClient,
    contacts_client: ContactsClient,
    dated: tuple[AccountRef, dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(contact_filter, "_HEAD_ROWS", 1)
    account, ids = dated
    in_range = sorted(ids[name] for name in ("c1", "c4", "c5", "c6"))
    first = (await http.get(f"/v1/contacts?limit=2&{_query(created_from=25)}", headers=account.headers)).json()
    assert [c["id"] for c in first["items"]] == in_range[:2]
    rest = await http.get(
        f"/v1/contacts?limit=10&after_id={first['next_after_id']}&{_query(created_from=25)}", headers=account.headers
    )
    assert [c["id"] for c in rest.json()["items"]] == in_range[2:]
    selection = Selection(filter=ContactFilter(created_from=day(25)), exclude_ids=[ids["c5"]])
    assert await contacts_client.count_selection(account.id, selection) == 3
    streamed = [c.id async for c in contacts_client.stream_selection(account.id, selection)]
    assert streamed == [i for i in in_range if i != ids["c5"]]
