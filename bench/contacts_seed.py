"""Seed rate of the contacts demo generator (COPY) into a fresh bench database.

    .venv/bin/python bench/contacts_seed.py --contacts 1000000

Leaves the database `crm_contacts_bench` with a "Bench" account for contacts_filter.py.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg

from services.contacts.adapters import accounts_store, seeding
from services.contacts.bootstrap import MIGRATIONS
from services.contacts.config import ContactsPostgres
from shared.postgres import create_pool, migrate

BENCH_DATABASE = "crm_contacts_bench"
BENCH_ACCOUNT = "Bench"


async def fresh_database(settings: ContactsPostgres) -> None:
    admin = await asyncpg.connect(settings.model_copy(update={"database": "postgres"}).dsn())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{settings.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{settings.database}"')
    finally:
        await admin.close()
    await migrate(settings, MIGRATIONS)


async def main(count: int) -> None:
    settings = ContactsPostgres(database=BENCH_DATABASE, min_pool_size=1, max_pool_size=2)
    await fresh_database(settings)
    pool = await create_pool(settings)
    async with pool.acquire() as conn:
        account_id = await accounts_store.create_account(conn, BENCH_ACCOUNT)
        await seeding.ensure_demo_setup(conn, account_id)
        other = await accounts_store.create_account(conn, "Bench other")
        await seeding.ensure_demo_setup(conn, other)
        # Another account's rows share the table and indexes, as in production.
        await seeding.seed_contacts(conn, other, count // 10, seed=11)
        started = time.perf_counter()
        added = await seeding.seed_contacts(
            conn, account_id, count, progress=lambda n: print(f"  {n:,}", flush=True) if n % 200_000 == 0 else None
        )
        elapsed = time.perf_counter() - started
        await conn.execute("ANALYZE contacts")
    await pool.close()
    print(
        f"seeded {added:,} contacts in {elapsed:.1f} s: {added / elapsed:,.0f} contacts/s "
        f"(table already holding {count // 10:,} rows of another account; all indexes live)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args().contacts))
