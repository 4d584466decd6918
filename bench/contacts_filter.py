"""Latency of one filtered list page (50 contacts) at 1M contacts, per filter type, as
p50/p95 and as ratios to a plain `WHERE account_id = $1 ORDER BY id LIMIT 50` page in the
same run. Runs the service's own WHERE builder and page query (no HTTP).

    .venv/bin/python -m bench.contacts_seed --contacts 1000000   # once
    .venv/bin/python -m bench.contacts_filter                    # ~2 min
    .venv/bin/python -m bench.contacts_filter --check            # and prove each page right

Date ranges are placed relative to the account's own newest `created_at` / `updated_at`
(the demo generator spreads them over three years, ids growing with `created_at`), not
to the clock: the bench reads the same rows whenever it runs. `--check` compares one page
per filter with the same conditions run as a plain sequential scan (no index, no id
bound), which takes a few seconds per filter.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.contacts_seed import BENCH_ACCOUNT, BENCH_DATABASE
from services.contacts.adapters import accounts_store, contact_reads
from services.contacts.config import ContactsPostgres
from services.contacts.domain.contact_filter import WhereClause, filter_where
from shared.postgres import create_pool
from shared.selection import ContactFilter

RUNS = 60
PAGE = 50
DAY = timedelta(days=1)


def scenarios(
    owner_ids: list[int],
    max_id: int,
    min_id: int,
    first: datetime,
    newest: datetime,
    newest_update: datetime,
    stored: dict[str, list[str]],
) -> dict[str, Callable[[random.Random], tuple[ContactFilter, int | None]]]:
    """`stored`: custom key → some of its stored values (decimals and datetimes are
    asked for as written in other forms: more digits, another offset)."""

    def deep(r: random.Random) -> int:
        return r.randrange(min_id, max_id)

    span = newest - first
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
        "created: last 1-30 days": lambda r: (ContactFilter(created_from=newest - r.randrange(1, 31) * DAY), None),
        "created: after the newest (0 rows)": lambda r: (
            ContactFilter(created_from=newest + r.randrange(1, 3600) * timedelta(seconds=1)),
            None,
        ),
        "created: last 300-400 days": lambda r: (
            ContactFilter(created_from=newest - r.randrange(300, 401) * DAY),
            None,
        ),
        "created: all but the first 2-6 weeks": lambda r: (
            ContactFilter(created_from=first + r.randrange(14, 43) * DAY),
            None,
        ),
        "created: one past month (from+to)": lambda r: (
            _month(first + span * r.random()),
            None,
        ),
        "created: before a day in the first year (to)": lambda r: (
            ContactFilter(created_to=first + r.randrange(1, 365) * DAY),
            None,
        ),
        "updated: last 1-30 days": lambda r: (
            ContactFilter(updated_from=newest_update - r.randrange(1, 31) * DAY),
            None,
        ),
        "updated: after the newest (0 rows)": lambda r: (
            ContactFilter(updated_from=newest_update + r.randrange(1, 3600) * timedelta(seconds=1)),
            None,
        ),
        "custom single select": lambda r: (ContactFilter(custom={"segmento": r.choice(["Varejo", "Saúde"])}), None),
        "custom multi select": lambda r: (ContactFilter(custom={"interesses": "ERP"}), None),
        "custom boolean": lambda r: (ContactFilter(custom={"aceita_email": True}), None),
        "custom number (rare)": lambda r: (ContactFilter(custom={"funcionarios": r.randrange(1, 5000)}), None),
        "custom decimal (rare)": lambda r: (
            ContactFilter(custom={"faturamento": r.choice(stored["faturamento"]) + "0"}),
            None,
        ),
        "custom decimal (absent)": lambda r: (ContactFilter(custom={"faturamento": f"{r.randrange(10**9)}.001"}), None),
        "custom datetime (rare)": lambda r: (
            ContactFilter(custom={"ultimo_contato": _in_utc(r.choice(stored["ultimo_contato"]))}),
            None,
        ),
        "combined: stage+owner+tag+q": lambda r: (
            ContactFilter(lifecycle_stages=["cliente"], owner_ids=[r.choice(owner_ids)], tags=["vip"], q="silva"),
            None,
        ),
        "combined: legal+custom+q (rare match)": lambda r: (
            ContactFilter(legal_entity=True, custom={"segmento": "Agronegócio"}, q="padaria goias"),
            None,
        ),
        "combined: q word + custom number (rare)": lambda r: (
            ContactFilter(q="silva", custom={"funcionarios": r.randrange(1, 5000)}),
            None,
        ),
        "combined: created last 1-30 days + stage": lambda r: (
            ContactFilter(created_from=newest - r.randrange(1, 31) * DAY, lifecycle_stages=["cliente"]),
            None,
        ),
    }


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _in_utc(stored: str) -> str:
    return datetime.fromisoformat(stored).astimezone(UTC).isoformat()


def _month(start: datetime) -> ContactFilter:
    return ContactFilter(created_from=start, created_to=start + 30 * DAY)


async def check_page(conn: asyncpg.Connection, where: WhereClause, after_id: int | None, page: list[int]) -> None:
    """The same conditions, without the id bound of date ranges, as a sequential scan."""
    conditions = [c for c in where.conditions if not c.startswith("id >= (SELECT")]
    params = list(where.params)
    if after_id is not None:
        params.append(after_id)
        conditions.append(f"id > ${len(params)}")
    async with conn.transaction():
        for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
            await conn.execute(f"SET LOCAL {setting} = off")
        rows = await conn.fetch(
            f"SELECT id FROM contacts WHERE {' AND '.join(conditions)} ORDER BY id LIMIT {PAGE}", *params
        )
    expected = [r["id"] for r in rows]
    assert page == expected, f"page {page[:5]}... differs from the sequential scan's {expected[:5]}..."


async def main(database: str, check: bool, only: str | None, settings: dict[str, str] | None = None) -> None:
    loads = [_load()]
    pool = await create_pool(ContactsPostgres(database=database, max_pool_size=2), server_settings=settings or {})
    async with pool.acquire() as conn:
        account_id = await accounts_store.find_account_by_name(conn, BENCH_ACCOUNT)
        assert account_id is not None, "run bench/contacts_seed.py first"
        rules, timezone = await accounts_store.account_rules(conn, account_id)
        bounds = await conn.fetchrow(
            "SELECT count(*) AS total, min(id) AS low, max(id) AS high, min(created_at) AS first, "
            "max(created_at) AS newest, max(updated_at) AS newest_update FROM contacts WHERE account_id = $1",
            account_id,
        )
        stored = {
            key: [
                r["value"]
                for r in await conn.fetch(
                    "SELECT custom_fields ->> $2 AS value FROM contacts "
                    "WHERE account_id = $1 AND id % 997 = 0 AND custom_fields ? $2 LIMIT 200",
                    account_id,
                    key,
                )
            ]
            for key in ("faturamento", "ultimo_contato")
        }
        rng = random.Random(1)
        results: dict[str, tuple[float, float, float]] = {}
        all_scenarios = scenarios(
            sorted(rules.owner_ids),
            bounds["high"],
            bounds["low"],
            bounds["first"],
            bounds["newest"],
            bounds["newest_update"],
            stored,
        )
        for name, make in all_scenarios.items():
            if only is not None and only not in name and not name.startswith("baseline (account"):
                continue
            timings, rows = [], []
            for i in range(RUNS + 5):
                contact_filter, after_id = make(rng)
                where = filter_where(account_id, contact_filter, rules.custom_fields, timezone)
                started = time.perf_counter()
                page = await contact_reads.list_page(conn, account_id, where, after_id, PAGE)
                elapsed = (time.perf_counter() - started) * 1000
                if i >= 5:  # warm-up
                    timings.append(elapsed)
                    rows.append(len(page))
                if check and i == 0:
                    await check_page(conn, where, after_id, [c.id for c in page])
            q = statistics.quantiles(timings, n=20)
            results[name] = (statistics.median(timings), q[18], statistics.mean(rows))
    await pool.close()
    base50, base95, _ = results["baseline (account only)"]
    print(f"{bounds['total']:,} contacts in the bench account; {RUNS} pages of {PAGE} per filter")
    print(f"load average at the start {loads[0]}, at the end {_load()}")
    if check:
        print("every filter's page equals its sequential scan's")
    print("\n| filter | p50 ms | p95 ms | p50 / baseline | p95 / baseline | rows/page |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (p50, p95, per_page) in results.items():
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {p50 / base50:.1f}× | {p95 / base95:.1f}× | {per_page:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=BENCH_DATABASE)
    parser.add_argument("--check", action="store_true", help="compare one page per filter with a sequential scan")
    parser.add_argument("--only", help="the filters whose name holds this text (and the baseline)")
    parser.add_argument(
        "--setting", action="append", default=[], help="name=value: a PostgreSQL setting of the bench's sessions"
    )
    arguments = parser.parse_args()
    session_settings = dict(setting.split("=", 1) for setting in arguments.setting)
    asyncio.run(main(arguments.database, arguments.check, arguments.only, session_settings))
