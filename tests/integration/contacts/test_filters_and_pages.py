"""Every filter alone and combined, through the list API and the selection reads (the
same WHERE builder), and keyset pagination while rows are inserted."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest

from services.contacts.adapters import contact_reads
from shared.contacts_client import ContactsClient
from shared.selection import ContactFilter, Selection
from tests.integration.contacts.conftest import AccountRef, MakeAccount
from tests.integration.contacts.helpers import add_contact, add_custom_field


async def _ids(http: httpx.AsyncClient, account: AccountRef, query: str) -> list[int]:
    response = await http.get(f"/v1/contacts?limit=500&{query}", headers=account.headers)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


@pytest.fixture
async def populated(http: httpx.AsyncClient, make_account: MakeAccount) -> tuple[AccountRef, dict[str, Any]]:
    account = await make_account()
    h = account.headers
    o1, o2 = account.owner_ids
    await add_custom_field(
        http, h, key="segmento", label="Segmento", type="single_select", options=["Varejo", "Indústria"]
    )
    await add_custom_field(http, h, key="interesses", label="Interesses", type="multi_select", options=["CRM", "ERP"])
    await add_custom_field(http, h, key="faturamento", label="Faturamento", type="decimal")
    await add_custom_field(http, h, key="vip", label="VIP", type="boolean")
    await add_custom_field(http, h, key="visita", label="Visita", type="datetime")
    c = {
        "joao": await add_contact(
            http,
            h,
            name="João Conceição",
            emails=["joao@padaria.com.br"],
            phones=["+5511987654321"],
            company="Padaria São João",
            owner_id=o1,
            lifecycle_stage="lead",
            legal_entity=False,
            tags=["vip", "feira"],
            custom_fields={
                "segmento": "Varejo",
                "interesses": ["CRM", "ERP"],
                "faturamento": "10.50",
                "vip": True,
                "visita": "2025-03-01T09:00:00-03:00",
            },
        ),
        "maria": await add_contact(
            http,
            h,
            name="Maria Araújo",
            emails=["maria@industria.com"],
            company="Metalúrgica",
            owner_id=o2,
            lifecycle_stage="cliente",
            legal_entity=True,
            tags=["feira"],
            custom_fields={"segmento": "Indústria", "interesses": ["ERP"], "faturamento": "-0.0001"},
        ),
        "zeca": await add_contact(http, h, name="Zeca 100%_ok", phones=["+5521912345678"], lifecycle_stage="cliente"),
    }
    return account, {k: v["id"] for k, v in c.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=conceicao", ["joao"]),  # accents ignored
        ("q=ARAÚJO", ["maria"]),
        ("q=padaria", ["joao"]),  # company and email
        ("q=industria.com", ["maria"]),
        ("q=98765-4321", ["joao"]),  # phone as typed with punctuation
        ("q=100%25_", ["zeca"]),  # LIKE wildcards are literal
        ("q=joao padaria", ["joao"]),  # every word
        ("owner_ids={o1}", ["joao"]),
        ("owner_ids={o1},{o2}", ["joao", "maria"]),
        ("lifecycle_stages=cliente", ["maria", "zeca"]),
        ("tags=vip", ["joao"]),
        ("tags=vip&tags=feira", ["joao", "maria"]),
        ("legal_entity=true", ["maria"]),
        ("legal_entity=false", ["joao"]),
        ("custom.segmento=Varejo", ["joao"]),
        ("custom.interesses=ERP", ["joao", "maria"]),
        ("custom.faturamento=10.5", ["joao"]),  # as numbers: the stored "10.50"
        ("custom.faturamento=10.500", ["joao"]),
        ("custom.faturamento=10.51", []),
        ("custom.faturamento=-0.00010", ["maria"]),
        ("custom.visita=2025-03-01T12:00:00Z", ["joao"]),  # the same instant
        ("custom.visita=2025-03-01T09:00:00.000001-03:00", []),
        ("custom.faturamento=10.5&custom.visita=2025-03-01T09:00:00-03:00&q=padaria", ["joao"]),
        ("custom.vip=sim", ["joao"]),
        ("lifecycle_stages=cliente&legal_entity=true&custom.interesses=ERP&q=maria", ["maria"]),
        ("tags=feira&owner_ids={o2}", ["maria"]),
        ("created_from=2000-01-01T00:00:00Z", ["joao", "maria", "zeca"]),
        ("created_to=2000-01-01T00:00:00Z", []),
        ("updated_from=2999-01-01", []),
        ("updated_to=2999-01-01", ["joao", "maria", "zeca"]),
        # Bounds whose instant is outside years 1 to 9999 in UTC (Python cannot convert
        # them; PostgreSQL's range is wider): before and after every contact.
        ("created_from=0001-01-01T00:00:00%2B05:00", ["joao", "maria", "zeca"]),
        ("created_to=0001-01-01T00:00:00%2B05:00", []),
        ("updated_from=9999-12-31T23:00:00-05:00", []),
        ("updated_to=9999-12-31T23:00:00-05:00", ["joao", "maria", "zeca"]),
        ("created_from=0001-01-01", ["joao", "maria", "zeca"]),  # local midnight: year 1 in UTC
    ],
)
async def test_each_filter_alone_and_combined(
    http: httpx.AsyncClient, populated: tuple[AccountRef, dict[str, int]], query: str, expected: list[str]
) -> None:
    account, ids = populated
    o1, o2 = account.owner_ids
    got = await _ids(http, account, query.format(o1=o1, o2=o2))
    assert got == sorted(ids[name] for name in expected)


async def test_bad_custom_filter_is_422_naming_it(
    http: httpx.AsyncClient, populated: tuple[AccountRef, dict[str, int]]
) -> None:
    account, _ = populated
    for query, named in (("custom.nao_existe=1", "custom.nao_existe"), ("custom.segmento=Outro", "custom.segmento")):
        response = await http.get(f"/v1/contacts?{query}", headers=account.headers)
        assert response.status_code == 422
        assert named in str(response.json()["detail"])


async def test_selection_reads_use_the_same_filter(
    contacts_client: ContactsClient, populated: tuple[AccountRef, dict[str, int]]
) -> None:
    account, ids = populated
    selection = Selection(filter=ContactFilter(tags=["feira"]), exclude_ids=[ids["maria"]])
    assert await contacts_client.count_selection(account.id, selection) == 1
    streamed = [c.id async for c in contacts_client.stream_selection(account.id, selection)]
    assert streamed == [ids["joao"]]
    everyone = Selection(all=True, exclude_ids=[ids["joao"]])
    assert [c.id async for c in contacts_client.stream_selection(account.id, everyone)] == sorted(
        [ids["maria"], ids["zeca"]]
    )
    chosen = Selection(ids=[ids["zeca"], ids["joao"], 999_999_999])
    assert [c.id async for c in contacts_client.stream_selection(account.id, chosen)] == sorted(
        [ids["joao"], ids["zeca"]]
    )


async def test_pages_have_no_gaps_or_repeats_while_rows_are_inserted(
    http: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    account = await make_account()
    first = [(await add_contact(http, account.headers, name=f"P{i}", tags=["x"]))["id"] for i in range(35)]
    seen: list[int] = []
    after: int | None = None
    inserted: list[int] = []
    while True:
        query = "limit=10&tags=x" + (f"&after_id={after}" if after else "")
        page = (await http.get(f"/v1/contacts?{query}", headers=account.headers)).json()
        seen += [c["id"] for c in page["items"]]
        after = page["next_after_id"]
        if after is None or len(inserted) > 12:
            break
        # Others insert while the user pages: new ids are larger, so they land at the end.
        new = await asyncio.gather(*(add_contact(http, account.headers, tags=["x"]) for _ in range(3)))
        inserted += [c["id"] for c in new]
    while after is not None:
        page = (await http.get(f"/v1/contacts?limit=10&tags=x&after_id={after}", headers=account.headers)).json()
        seen += [c["id"] for c in page["items"]]
        after = page["next_after_id"]
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)
    assert set(first) <= set(seen) and set(inserted) <= set(seen)


async def test_custom_value_pages_are_exact_whether_matches_are_rare_or_common(
    http: httpx.AsyncClient, pool: asyncpg.Pool, make_account: MakeAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page filtered by a custom value walks a bounded number of contacts in id order,
    then reads the rest of the page from the bitmap of the matches
    (contact_reads.list_page): every page, however rare or common the value and wherever
    its matches lie, holds exactly the next matches in id order."""
    monkeypatch.setattr(contact_reads, "BOUNDED_WALK_ROWS", 30)
    account = await make_account()
    await add_custom_field(http, account.headers, key="porte", label="Porte", type="number")
    await add_custom_field(http, account.headers, key="setor", label="Setor", type="single_select", options=["A", "B"])
    async with pool.acquire() as conn:
        # 600 contacts: `porte` 7 on every 97th and on a run of 40 near the end (rare,
        # then dense), 8 on every other one (common), 9 nowhere; `setor` B on the last 5.
        await conn.execute(
            """
            INSERT INTO contacts (account_id, name, custom_fields)
            SELECT $1, 'C' || n, jsonb_build_object(
                'porte', CASE WHEN n % 97 = 0 OR n BETWEEN 500 AND 539 THEN 7 WHEN n % 2 = 0 THEN 8 ELSE 1 END,
                'setor', CASE WHEN n > 595 THEN 'B' ELSE 'A' END)
            FROM generate_series(1, 600) AS n
            """,
            account.id,
        )
        rows = await conn.fetch(
            "SELECT id, (custom_fields->>'porte')::int AS porte, custom_fields->>'setor' AS setor "
            "FROM contacts WHERE account_id = $1 ORDER BY id",
            account.id,
        )
    expected = {
        "custom.porte=7": [r["id"] for r in rows if r["porte"] == 7],
        "custom.porte=8": [r["id"] for r in rows if r["porte"] == 8],
        "custom.porte=9": [],
        "custom.setor=B": [r["id"] for r in rows if r["setor"] == "B"],
        "custom.setor=B&custom.porte=8": [r["id"] for r in rows if r["setor"] == "B" and r["porte"] == 8],
    }
    assert len(expected["custom.porte=7"]) == 46 and len(expected["custom.setor=B"]) == 5
    for query, wanted in expected.items():
        for limit in (7, 50):
            seen: list[int] = []
            after: int | None = None
            while True:
                page = await http.get(
                    f"/v1/contacts?limit={limit}&{query}" + (f"&after_id={after}" if after else ""),
                    headers=account.headers,
                )
                assert page.status_code == 200, page.text
                seen += [c["id"] for c in page.json()["items"]]
                after = page.json()["next_after_id"]
                if after is None:
                    break
            assert seen == wanted, (query, limit)
