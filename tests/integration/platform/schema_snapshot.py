"""The schema each service's migrations produce, as a reviewable JSON snapshot.

    python -m tests.integration.platform.schema_snapshot --write   # after changing migrations
    python -m tests.integration.platform.schema_snapshot           # compare only (exit 1 on drift)

Each run migrates a fresh, randomly named database on the local PostgreSQL and drops it.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from shared.postgres import migrate
from shared.settings import PostgresSettings
from tests.support.stack import PG_PORT, ROOT

SERVICES = ("contacts", "export", "importer")
SNAPSHOTS = Path(__file__).parent / "schemas"
WRITE_COMMAND = "python -m tests.integration.platform.schema_snapshot --write"


def migrations_of(service: str) -> Path:
    return ROOT / "services" / service / "sql" / "migrations"


def snapshot_path(service: str) -> Path:
    return SNAPSHOTS / f"{service}.json"


@asynccontextmanager
async def fresh_database() -> AsyncIterator[PostgresSettings]:
    """An empty database of its own, dropped afterwards."""
    settings = PostgresSettings(port=PG_PORT, database=f"crm_test_{uuid.uuid4().hex[:12]}")
    try:
        yield settings
    finally:
        admin = await asyncpg.connect(settings.model_copy(update={"database": "postgres"}).dsn())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{settings.database}" WITH (FORCE)')
        finally:
            await admin.close()


def drop_databases(suffix: str) -> None:
    """Drops the databases whose names end with `suffix` (what one test module created)."""

    async def drop() -> None:
        conn = await asyncpg.connect(PostgresSettings(port=PG_PORT, database="postgres").dsn())
        try:
            for row in await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE '%' || $1", suffix):
                await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


_TABLE_COLUMNS = """
SELECT c.table_name, c.column_name, c.data_type, c.udt_name, c.is_nullable,
       c.column_default, c.is_identity, c.character_maximum_length
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name, c.ordinal_position
"""
_CONSTRAINTS = """
SELECT cl.relname AS table_name, co.conname, pg_get_constraintdef(co.oid) AS definition
FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
WHERE n.nspname = 'public' ORDER BY 1, 2
"""
_INDEXES = "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"
_ENUMS = """
SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = 'public' GROUP BY t.typname ORDER BY 1
"""
_VIEWS = "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1"
_FUNCTIONS = """
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS signature
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' ORDER BY 1
"""
_TRIGGERS = """
SELECT c.relname AS table_name, t.tgname, pg_get_triggerdef(t.oid) AS definition
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1, 2
"""


async def dump_schema(conn: asyncpg.Connection) -> dict[str, Any]:
    """Tables (columns, constraints, indexes, triggers), enums, views and functions of
    the `public` schema, in a stable order."""
    tables: dict[str, dict[str, Any]] = {}

    def table(name: str) -> dict[str, Any]:
        return tables.setdefault(name, {"columns": {}, "constraints": {}, "indexes": {}, "triggers": {}})

    for r in await conn.fetch(_TABLE_COLUMNS):
        column_type = r["udt_name"] if r["data_type"] in ("USER-DEFINED", "ARRAY") else r["data_type"]
        if r["character_maximum_length"]:
            column_type += f"({r['character_maximum_length']})"
        parts = [column_type, "NULL" if r["is_nullable"] == "YES" else "NOT NULL"]
        if r["column_default"] is not None:
            parts.append(f"DEFAULT {r['column_default']}")
        if r["is_identity"] == "YES":
            parts.append("IDENTITY")
        table(r["table_name"])["columns"][r["column_name"]] = " ".join(parts)
    for r in await conn.fetch(_CONSTRAINTS):
        table(r["table_name"])["constraints"][r["conname"]] = r["definition"]
    for r in await conn.fetch(_INDEXES):
        table(r["tablename"])["indexes"][r["indexname"]] = r["indexdef"]
    for r in await conn.fetch(_TRIGGERS):
        table(r["table_name"])["triggers"][r["tgname"]] = r["definition"]
    return {
        "tables": dict(sorted(tables.items())),
        "enums": {r["typname"]: list(r["labels"]) for r in await conn.fetch(_ENUMS)},
        "views": {r["viewname"]: " ".join(r["definition"].split()) for r in await conn.fetch(_VIEWS)},
        "functions": [r["signature"] for r in await conn.fetch(_FUNCTIONS)],
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


async def migrated_schema(service: str) -> dict[str, Any]:
    async with fresh_database() as settings:
        await migrate(settings, migrations_of(service))
        conn = await asyncpg.connect(settings.dsn())
        try:
            return await dump_schema(conn)
        finally:
            await conn.close()


def snapshot_diff(service: str, actual: str) -> str:
    """A unified diff from the checked-in snapshot to `actual` (empty: they are equal)."""
    path = snapshot_path(service)
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"{path.relative_to(ROOT)} (checked in)",
            tofile=f"services/{service}/sql/migrations (applied)",
        )
    )


async def main(write: bool) -> int:
    drift = 0
    for service in SERVICES:
        actual = render(await migrated_schema(service))
        diff = snapshot_diff(service, actual)
        if write:
            snapshot_path(service).write_text(actual, encoding="utf-8")
            print(f"{snapshot_path(service).relative_to(ROOT)}: {'updated' if diff else 'unchanged'}")
        elif diff:
            drift = 1
            sys.stdout.write(diff)
    return drift


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the snapshots from the migrations")
    sys.exit(asyncio.run(main(parser.parse_args().write)))
