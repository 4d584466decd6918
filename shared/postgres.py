"""asyncpg pool factory and the SQL-migration runner.

Migrations are plain versioned files, `NNNN_description.sql`, in each service's
`sql/migrations/` folder. Each applies in its own transaction, under an advisory lock so
that replicas starting together apply it once; the checksum of every applied file is kept
so that an edited, already-applied migration is refused instead of silently ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from shared.settings import PostgresSettings

_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant shared by all services' runners; each database has its own lock space.
_MIGRATION_LOCK_KEY = 7_246_318_001


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    pass


def load_migrations(folder: Path) -> list[Migration]:
    migrations = []
    for path in sorted(folder.glob("*.sql")):
        match = _MIGRATION_FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_description.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{folder}: two migrations share a version number")
    return migrations


async def apply_migrations(conn: asyncpg.Connection, folder: Path) -> list[int]:
    """Applies the pending migrations of `folder`; returns the versions applied now."""
    migrations = load_migrations(folder)
    applied_now: list[int] = []
    # Replicas starting together: one migrates, the others wait here (even the CREATE
    # TABLE IF NOT EXISTS below races on the catalog without it).
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
        applied = {r["version"]: r["checksum"] for r in rows}
        for migration in migrations:
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} was changed after it "
                        "was applied; add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            applied_now.append(migration.version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK_KEY)
    return applied_now


async def ensure_database(settings: PostgresSettings) -> None:
    """Creates the service's database when it does not exist yet (development and tests;
    in production the role may lack CREATEDB and the database is made beforehand)."""
    try:
        conn = await asyncpg.connect(settings.dsn(), timeout=settings.connect_timeout_s)
    except asyncpg.InvalidCatalogNameError:
        pass
    else:
        await conn.close()
        return
    maintenance = settings.model_copy(update={"database": "postgres"})
    conn = await asyncpg.connect(maintenance.dsn(), timeout=settings.connect_timeout_s)
    try:
        # Identifiers cannot be bound as parameters; quote it as PostgreSQL does.
        quoted = '"' + settings.database.replace('"', '""') + '"'
        # Another replica may make it first (two concurrent CREATE DATABASE also collide
        # on the catalog's unique index).
        with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
            await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()


async def init_connection(conn: asyncpg.Connection) -> None:
    # jsonb in and out as Python objects, so queries pass dicts and lists.
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(settings: PostgresSettings, **overrides: Any) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.dsn(),
        min_size=settings.min_pool_size,
        max_size=settings.max_pool_size,
        timeout=settings.connect_timeout_s,
        init=init_connection,
        # asyncpg reuses prepared statements; after five runs PostgreSQL may switch one to
        # a generic plan that cannot see the parameters' values (an array of a thousand
        # emails, a selective filter) and picks a plan hundreds of times slower (measured:
        # 0.07 s -> 23-34 s for the import's email lookup at 1M contacts). Planning each
        # run costs well under a millisecond.
        server_settings={
            "plan_cache_mode": "force_custom_plan",
            **settings.session_settings(),
            **overrides.pop("server_settings", {}),
        },
        **overrides,
    )
    assert pool is not None
    return pool


async def migrate(settings: PostgresSettings, folder: Path) -> list[int]:
    """Creates the database if needed and applies its pending migrations."""
    await ensure_database(settings)
    conn = await asyncpg.connect(settings.dsn(), timeout=settings.connect_timeout_s)
    try:
        return await apply_migrations(conn, folder)
    finally:
        await conn.close()
