"""A large seed into an empty contacts table (seeding.py): foreign keys and secondary
indexes are taken off for the load and are all back afterwards, whether the indexes are
built in the load's transaction or by several connections after it; an interrupted
build is finished by the next seed. Each test seeds a fresh database of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.contacts.adapters import accounts_store, seeding
from services.contacts.bootstrap import MIGRATIONS
from services.contacts.config import ContactsPostgres
from services.contacts.domain.demo_data import COLUMNS, DemoContactGenerator
from shared.postgres import init_connection, migrate
from tests.support.stack import PG_PORT

SCHEMA = """
SELECT 'index' AS kind, indexname AS name, indexdef AS definition FROM pg_indexes WHERE tablename = 'contacts'
UNION ALL
SELECT 'constraint', conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'contacts'::regclass
ORDER BY 1, 2
"""


@pytest.fixture
async def fresh(real_infra: None, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ContactsPostgres]:
    monkeypatch.setattr(seeding, "REBUILD_AT_LEAST", 200)  # the empty-table path for a small seed
    settings = ContactsPostgres(port=PG_PORT, database=f"crm_contacts_seed_{uuid.uuid4().hex[:10]}")
    await migrate(settings, MIGRATIONS)
    yield settings
    admin = await asyncpg.connect(settings.model_copy(update={"database": "postgres"}).dsn())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{settings.database}" WITH (FORCE)')
    finally:
        await admin.close()


async def _demo_account(conn: asyncpg.Connection, name: str) -> int:
    account_id = await accounts_store.create_account(conn, name)
    await seeding.ensure_demo_setup(conn, account_id)
    return account_id


@pytest.mark.parametrize("builders", ["in-transaction", "two-connections"])
async def test_seed_into_an_empty_table_puts_every_index_and_key_back(fresh: ContactsPostgres, builders: str) -> None:
    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(fresh.dsn())

    conn = await connect()
    await init_connection(conn)  # the pool's codecs, which accounts_store expects
    try:
        schema = await conn.fetch(SCHEMA)
        account_id = await _demo_account(conn, "Demo")
        added = await seeding.seed_contacts(
            conn, account_id, 600, connect=connect if builders == "two-connections" else None
        )
        assert added == 600
        assert await conn.fetch(SCHEMA) == schema
        assert await conn.fetchval("SELECT count(*) FROM contacts_deferred_indexes") == 0
        invalid = await conn.fetchval(
            "SELECT count(*) FROM pg_index WHERE indrelid = 'contacts'::regclass AND NOT indisvalid"
        )
        assert invalid == 0
        dates = await conn.fetchrow(
            "SELECT min(created_at) AS first, max(created_at) AS last, bool_and(updated_at >= created_at) AS ordered, "
            "count(*) FILTER (WHERE updated_at > created_at) AS edited, max(updated_at) <= now() AS past "
            "FROM contacts WHERE account_id = $1",
            account_id,
        )
        assert (dates["last"] - dates["first"]).days > 2 * 365 and dates["ordered"] and dates["past"]
        assert 200 < dates["edited"] < 450
        # The keys were checked again: a contact of an unknown owner is refused.
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute(
                "INSERT INTO contacts (account_id, name, owner_id) VALUES ($1, 'x', 987654321)", account_id
            )
        # Into the table now in use: every index live, the other path.
        other = await _demo_account(conn, "Outra")
        assert await seeding.seed_contacts(conn, other, 300, seed=3) == 300
        assert await conn.fetch(SCHEMA) == schema
    finally:
        await conn.close()


async def test_an_interrupted_build_is_finished_by_the_next_seed(fresh: ContactsPostgres) -> None:
    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(fresh.dsn())

    conn = await connect()
    await init_connection(conn)
    try:
        schema = await conn.fetch(SCHEMA)
        account_id = await _demo_account(conn, "Demo")
        await seeding.seed_contacts(conn, account_id, 300, connect=connect)
        # As if the seed had stopped after its load: two indexes never built.
        definitions = await conn.fetch(
            "SELECT indexname AS name, indexdef AS definition FROM pg_indexes "
            "WHERE indexname IN ('contacts_tags', 'contacts_search_text_custom_fields')"
        )
        assert len(definitions) == 2
        for row in definitions:
            await conn.execute(f"DROP INDEX {row['name']}")
            await conn.execute(
                "INSERT INTO contacts_deferred_indexes (name, definition) VALUES ($1, $2)",
                row["name"],
                row["definition"],
            )
        # A definition that cannot be built stays recorded, and the others are built.
        await conn.execute(
            "INSERT INTO contacts_deferred_indexes (name, definition) "
            "VALUES ('contacts_broken', 'CREATE INDEX contacts_broken ON public.contacts (no_such_column)')"
        )
        with pytest.raises(asyncpg.UndefinedColumnError):
            await seeding.build_deferred_indexes(conn, connect)
        assert await conn.fetchval("SELECT array_agg(name) FROM contacts_deferred_indexes") == ["contacts_broken"]
        await conn.execute("DELETE FROM contacts_deferred_indexes")
        assert await conn.fetch(SCHEMA) == schema
        # And the next seed builds what is recorded before it loads.
        await conn.execute("DROP INDEX contacts_tags")
        await conn.execute(
            "INSERT INTO contacts_deferred_indexes (name, definition) VALUES ($1, $2)",
            "contacts_tags",
            "CREATE INDEX contacts_tags ON public.contacts USING gin (tags)",
        )
        assert await seeding.seed_contacts(conn, account_id, 10) == 10
        assert await conn.fetch(SCHEMA) == schema
        assert await conn.fetchval("SELECT count(*) FROM contacts_deferred_indexes") == 0
    finally:
        await conn.close()


async def test_contacts_are_stored_as_generated_whoever_encodes_them(
    fresh: ContactsPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seeding, "CHUNK", 100)
    conn = await asyncpg.connect(fresh.dsn())
    await init_connection(conn)
    columns = [c for c in COLUMNS if c not in ("account_id", "owner_id", "created_at", "updated_at")]
    try:
        stored = []
        for name, in_processes_at_least in (("Processos", 250), ("Thread", 10**9)):
            monkeypatch.setattr(seeding, "GENERATE_IN_PROCESSES_AT_LEAST", in_processes_at_least)
            account_id = await _demo_account(conn, name)
            assert await seeding.seed_contacts(conn, account_id, 300, seed=4) == 300
            rows = await conn.fetch(
                f"SELECT {', '.join(columns)}, created_at, updated_at FROM contacts WHERE account_id = $1 ORDER BY id",
                account_id,
            )
            stored.append(rows)
        # The same contacts either way (each chunk has a seed of its own); the dates are
        # the same up to the moment of each seed.
        processes, thread = stored
        assert [tuple(r)[:-2] for r in processes] == [tuple(r)[:-2] for r in thread]
        for rows in stored:
            assert [r["created_at"] - rows[0]["created_at"] for r in rows] == [
                r["created_at"] - processes[0]["created_at"] for r in processes
            ]
        # And what the generator gives, value for value: the third chunk of seed 4.
        rules, _ = await accounts_store.account_rules(conn, account_id)
        generated = DemoContactGenerator(
            account_id,
            sorted(rules.owner_ids),
            sorted(rules.stage_keys),
            "4/2",
            total=300,
            first_serial=200,
        ).rows(100)
        indexes = [COLUMNS.index(c) for c in columns]
        assert [tuple(r)[:-2] for r in thread[200:]] == [tuple(g[i] for i in indexes) for g in generated]
        created, updated = COLUMNS.index("created_at"), COLUMNS.index("updated_at")
        assert [r["updated_at"] - r["created_at"] for r in thread[200:]] == [g[updated] - g[created] for g in generated]
    finally:
        await conn.close()
