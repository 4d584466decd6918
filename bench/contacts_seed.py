"""Seed rate of the contacts demo generator (COPY) into a fresh bench database.

    .venv/bin/python -m bench.contacts_seed --contacts 1000000
    .venv/bin/python -m bench.contacts_seed --contacts 1000000 --database crm_contacts_mine

Leaves the database `crm_contacts_bench` (built from the migrations; `--database` names
another) with a "Bench" account of `--contacts` contacts for contacts_filter.py, and a
"Bench other" account of a tenth as many sharing the table. Two timings, the two paths of
`seeding.seed_contacts`: the Bench account goes first, into the empty table (foreign keys
and secondary indexes taken off, the indexes built after the load by two connections at
once; `--in-transaction` builds them one by one in the load's transaction, what
`contacts-admin demo` does); the other account goes second, into the full table with
every index live (what seeding an account of a database in use does). The seed's phases
are logged with their durations.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
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


async def timed_seed(
    conn: asyncpg.Connection, account_id: int, count: int, seed: int, connect: seeding.Connect | None
) -> tuple[int, float]:
    def progress(done: int) -> None:
        if done % 200_000 == 0:
            print(f"  {done:,}", flush=True)

    started = time.perf_counter()
    added = await seeding.seed_contacts(conn, account_id, count, seed=seed, progress=progress, connect=connect)
    return added, time.perf_counter() - started


def _load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


async def main(count: int, database: str, in_transaction: bool) -> None:
    settings = ContactsPostgres(database=database, min_pool_size=1, max_pool_size=2)
    await fresh_database(settings)
    pool = await create_pool(settings)

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(settings.dsn())

    path = "indexes built in the load's transaction" if in_transaction else "indexes built by two connections"
    async with pool.acquire() as conn:
        account_id = await accounts_store.create_account(conn, BENCH_ACCOUNT)
        await seeding.ensure_demo_setup(conn, account_id)
        other = await accounts_store.create_account(conn, "Bench other")
        await seeding.ensure_demo_setup(conn, other)
        print(f"before: {_load()}", flush=True)
        added, elapsed = await timed_seed(conn, account_id, count, 7, None if in_transaction else connect)
        print(
            f"seeded {added:,} contacts in {elapsed:.1f} s: {added / elapsed:,.0f} contacts/s "
            f"(empty table: {path}, VACUUM ANALYZE included; {_load()})",
            flush=True,
        )
        # Another account's rows share the table and indexes, as in production.
        added, elapsed = await timed_seed(conn, other, count // 10, 11, connect)
        print(
            f"seeded {added:,} contacts in {elapsed:.1f} s: {added / elapsed:,.0f} contacts/s "
            f"(table already holding {count:,} rows of another account; all indexes live; {_load()})"
        )
    await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--database", default=BENCH_DATABASE)
    parser.add_argument(
        "--in-transaction", action="store_true", help="build the indexes in the load's transaction, one by one"
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    asyncio.run(main(arguments.contacts, arguments.database, arguments.in_transaction))
