"""Migrations apply to an empty database, and applying them again changes nothing."""

from __future__ import annotations

import asyncpg

from services.contacts.bootstrap import MIGRATIONS
from services.contacts.config import ContactsSettings
from shared.postgres import apply_migrations, load_migrations


async def test_migrations_are_all_applied_once(contacts_settings: ContactsSettings) -> None:
    conn = await asyncpg.connect(contacts_settings.postgres.dsn())
    try:
        assert await apply_migrations(conn, MIGRATIONS) == []
        applied = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in applied] == [m.version for m in load_migrations(MIGRATIONS)]
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        assert {
            "accounts",
            "users",
            "api_tokens",
            "lifecycle_stages",
            "custom_field_definitions",
            "contacts",
            "contact_changes",
            "bulk_apply_batches",
        } <= tables
    finally:
        await conn.close()
