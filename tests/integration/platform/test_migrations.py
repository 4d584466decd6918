"""The migration runner on real, fresh PostgreSQL databases: each service's migrations
apply once, produce the checked-in schema, and an edited applied migration is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from shared.postgres import MigrationError, ensure_database, load_migrations, migrate
from tests.integration.platform.schema_snapshot import (
    SERVICES,
    WRITE_COMMAND,
    dump_schema,
    fresh_database,
    migrations_of,
    render,
    snapshot_diff,
)


@pytest.mark.parametrize("service", SERVICES)
async def test_service_migrations_apply_once_and_give_the_expected_schema(service: str) -> None:
    folder = migrations_of(service)
    versions = [m.version for m in load_migrations(folder)]
    assert versions, f"{folder} has no migrations"
    async with fresh_database() as db:
        assert await migrate(db, folder) == versions
        assert await migrate(db, folder) == [], "a second start must apply nothing"
        conn = await asyncpg.connect(db.dsn())
        try:
            schema = await dump_schema(conn)
            recorded = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        finally:
            await conn.close()
    assert [r["version"] for r in recorded] == versions
    diff = snapshot_diff(service, render(schema))
    assert not diff, (
        f"the schema of services/{service}/sql/migrations differs from its snapshot; "
        f"if the change is intended, run `{WRITE_COMMAND}` and review the diff:\n{diff}"
    )


def write_migrations(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


async def test_edited_applied_migration_is_refused(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "migrations",
        {"0001_things.sql": "CREATE TABLE things (id bigint PRIMARY KEY);"},
    )
    async with fresh_database() as db:
        assert await migrate(db, folder) == [1]
        (folder / "0001_things.sql").write_text(
            "CREATE TABLE things (id bigint PRIMARY KEY, name text);", encoding="utf-8"
        )
        with pytest.raises(MigrationError, match="0001_things was changed after it was applied"):
            await migrate(db, folder)


async def test_failed_migration_is_rolled_back_and_retried(tmp_path: Path) -> None:
    folder = write_migrations(
        tmp_path / "migrations",
        {
            "0001_things.sql": "CREATE TABLE things (id bigint PRIMARY KEY);",
            "0002_broken.sql": "CREATE TABLE halfway (id int); SELECT no_such_function();",
        },
    )
    async with fresh_database() as db:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await migrate(db, folder)
        conn = await asyncpg.connect(db.dsn())
        try:
            assert await conn.fetchval("SELECT to_regclass('halfway')") is None
        finally:
            await conn.close()
        (folder / "0002_broken.sql").write_text("CREATE TABLE halfway (id int);", encoding="utf-8")
        assert await migrate(db, folder) == [2]


def three_steps(tmp_path: Path) -> Path:
    return write_migrations(
        tmp_path / "migrations",
        {f"000{i}_step_{i}.sql": f"CREATE TABLE step_{i} (id int);" for i in range(1, 4)},
    )


# A race shows only sometimes: a few rounds of several replicas make it show reliably.
ROUNDS, REPLICAS = 3, 6


async def test_replicas_starting_together_apply_each_migration_once(tmp_path: Path) -> None:
    folder = three_steps(tmp_path)
    for _ in range(ROUNDS):
        async with fresh_database() as db:
            await ensure_database(db)
            results = await asyncio.gather(*(migrate(db, folder) for _ in range(REPLICAS)))
        assert sorted(v for result in results for v in result) == [1, 2, 3]


async def test_replicas_starting_together_create_the_database_once(tmp_path: Path) -> None:
    folder = three_steps(tmp_path)
    for _ in range(ROUNDS):
        async with fresh_database() as db:
            results = await asyncio.gather(*(migrate(db, folder) for _ in range(REPLICAS)))
        assert sorted(v for result in results for v in result) == [1, 2, 3]


def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    folder = write_migrations(tmp_path / "migrations", {"1_things.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match=r"NNNN_description\.sql"):
        load_migrations(folder)


async def test_a_migration_longer_than_a_start_step_is_not_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration that builds an index on a large table takes minutes; a start that cut
    it off at the step limit would roll it back at every start, and the service would
    never start again (found with contacts' 0005 on a million rows: 49 s, limit 30 s)."""
    from services.export.config import ExportPostgres, ExportSettings
    from shared import service_app

    monkeypatch.setattr(service_app, "STARTUP_STEP_TIMEOUT_S", 0.5)
    folder = write_migrations(
        tmp_path / "migrations",
        {"0001_slow.sql": "SELECT pg_sleep(1.5); CREATE TABLE slow_things (id bigint PRIMARY KEY);"},
    )
    async with fresh_database() as db:
        settings = ExportSettings(postgres=ExportPostgres(**db.model_dump()))
        infra = await service_app.connect_infrastructure(settings, folder)
        try:
            async with infra.pool.acquire() as conn:
                assert await conn.fetchval("SELECT to_regclass('slow_things') IS NOT NULL")
        finally:
            await infra.close()
