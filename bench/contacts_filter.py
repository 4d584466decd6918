"""Latency of one filtered list page (50 contacts) at 1M contacts, per filter type, as
p50/p95 and as ratios to a plain `WHERE account_id = $1 ORDER BY id LIMIT 50` page in the
same run. Runs the service's own WHERE builder and page query (no HTTP).

    .venv/bin/python bench/contacts_seed.py --contacts 1000000   # once
    .venv/bin/python bench/contacts_filter.py
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable

from bench.contacts_seed import BENCH_ACCOUNT, BENCH_DATABASE
from services.contacts.adapters import accounts_store, contact_reads
from services.contacts.config import ContactsPostgres
from services.contacts.domain.contact_filter import filter_where
from shared.postgres import create_pool
from shared.selection import ContactFilter

RUNS = 60
PAGE = 50


def scenarios(
    owner_ids: list[int], max_id: int, min_id: int
) -> dict[str, Callable[[random.Random], tuple[ContactFilter, int | None]]]:
    def deep(r: random.Random) -> int:
        return r.randrange(min_id, max_id)

    return {
        "baseline (account only)": lambda r: (ContactFilter(), None),
        "baseline, deep page (after_id)": lambda r: (ContactFilter(), deep(r)),
        "q: name word (accent-free)": lambda r: (
            ContactFilter(q=r.choice(["conceicao", "araujo", "simoes", "magalhaes"])),
            None,
        ),
        "q: rare text (one contact)": lambda r: (ContactFilter(q=f"contato{r.randrange(1, 900_000)}@"), None),
        "q: phone digits": lambda r: (ContactFilter(q=f"9{r.randrange(10_000, 99_999)}"), None),
        "owner_ids (1 of 4)": lambda r: (ContactFilter(owner_ids=[r.choice(owner_ids)]), None),
        "owner_ids, deep page": lambda r: (ContactFilter(owner_ids=[r.choice(owner_ids)]), deep(r)),
        "lifecycle_stages (2)": lambda r: (ContactFilter(lifecycle_stages=["lead", "cliente"]), None),
        "tags (any of 1)": lambda r: (ContactFilter(tags=[r.choice(["vip", "feira", "parceiro"])]), None),
        "legal_entity": lambda r: (ContactFilter(legal_entity=r.random() < 0.5), None),
        "created range (recent)": lambda r: (ContactFilter(created_from=_ago(r.randrange(1, 60))), None),
        "updated range (recent)": lambda r: (ContactFilter(updated_from=_ago(r.randrange(1, 60))), None),
        "custom single select": lambda r: (ContactFilter(custom={"segmento": r.choice(["Varejo", "Saúde"])}), None),
        "custom multi select": lambda r: (ContactFilter(custom={"interesses": "ERP"}), None),
        "custom boolean": lambda r: (ContactFilter(custom={"aceita_email": True}), None),
        "custom number (rare)": lambda r: (ContactFilter(custom={"funcionarios": r.randrange(1, 5000)}), None),
        "combined: stage+owner+tag+q": lambda r: (
            ContactFilter(lifecycle_stages=["cliente"], owner_ids=[r.choice(owner_ids)], tags=["vip"], q="silva"),
            None,
        ),
        "combined: legal+custom+q (rare match)": lambda r: (
            ContactFilter(legal_entity=True, custom={"segmento": "Agronegócio"}, q="padaria goias"),
            None,
        ),
    }


def _ago(minutes: int):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(minutes=minutes)


async def main() -> None:
    pool = await create_pool(ContactsPostgres(database=BENCH_DATABASE, max_pool_size=2))
    async with pool.acquire() as conn:
        account_id = await accounts_store.find_account_by_name(conn, BENCH_ACCOUNT)
        assert account_id is not None, "run bench/contacts_seed.py first"
        rules, timezone = await accounts_store.account_rules(conn, account_id)
        total = await conn.fetchval("SELECT count(*) FROM contacts WHERE account_id = $1", account_id)
        low, high = await conn.fetchrow("SELECT min(id), max(id) FROM contacts WHERE account_id = $1", account_id)
        rng = random.Random(1)
        results: dict[str, tuple[float, float, float]] = {}
        for name, make in scenarios(sorted(rules.owner_ids), high, low).items():
            timings, rows = [], []
            for i in range(RUNS + 5):
                contact_filter, after_id = make(rng)
                where = filter_where(account_id, contact_filter, rules.custom_fields, timezone)
                started = time.perf_counter()
                page = await contact_reads.list_page(conn, where, after_id, PAGE)
                elapsed = (time.perf_counter() - started) * 1000
                if i >= 5:  # warm-up
                    timings.append(elapsed)
                    rows.append(len(page))
            q = statistics.quantiles(timings, n=20)
            results[name] = (statistics.median(timings), q[18], statistics.mean(rows))
    await pool.close()
    base50, base95, _ = results["baseline (account only)"]
    print(f"{total:,} contacts in the bench account; {RUNS} pages of {PAGE} per filter\n")
    print("| filter | p50 ms | p95 ms | p50 / baseline | p95 / baseline | rows/page |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (p50, p95, rows) in results.items():
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {p50 / base50:.1f}× | {p95 / base95:.1f}× | {rows:.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
