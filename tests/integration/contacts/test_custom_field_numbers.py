"""Decimal and datetime custom values are also kept as numbers (`contacts.
custom_field_numbers`, migration 0006), which the equality filter matches through a GIN
index. Every writer must keep them, and the Python mapping that writers use must equal
the SQL one that filled the rows written before the migration."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.contacts.adapters import accounts_store
from services.contacts.adapters.seeding import ensure_demo_setup, seed_contacts
from services.contacts.bootstrap import MIGRATIONS
from services.contacts.config import ContactsSettings
from services.contacts.domain.custom_field_rules import (
    CustomFieldDefinition,
    canonical_custom_value,
    custom_field_numbers,
    number_indexed_fields,
)
from shared.contacts_client import ContactsClient
from shared.fields import FieldType
from shared.postgres import apply_migrations
from tests.integration.contacts.conftest import MakeAccount
from tests.integration.contacts.helpers import add_contact, add_custom_field, batch, create_row, update_row

DECIMAL = CustomFieldDefinition("valor", "Valor", FieldType.DECIMAL)
DATETIME = CustomFieldDefinition("visita", "Visita", FieldType.DATETIME)
NUMBER_FIELDS = {"valor": FieldType.DECIMAL, "visita": FieldType.DATETIME}
# Python's offsets go to ±23:59:59.999999; PostgreSQL's timestamptz input stops at 15:59:59.
offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)).map(
    timezone
)
moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    offsets,
)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: d.adjusted() < 200 and d.as_tuple().exponent > -200  # type: ignore[operator]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=decimals, moment=moments)
async def test_the_python_mapping_equals_the_migrations_sql(
    pool: asyncpg.Pool, value: Decimal, moment: datetime
) -> None:
    custom = {
        "valor": canonical_custom_value(DECIMAL, format(value, "f")),
        "visita": canonical_custom_value(DATETIME, moment.isoformat()),
        "outro": "12.5",
    }
    async with pool.acquire() as conn:
        from_sql = await conn.fetchval(
            "SELECT contact_custom_field_numbers($1::jsonb, $2::jsonb)::text", custom, NUMBER_FIELDS
        )
        equal = await conn.fetchval(
            "SELECT $1::text::jsonb = contact_custom_field_numbers($2::jsonb, $3::jsonb)",
            custom_field_numbers(custom, NUMBER_FIELDS),
            custom,
            NUMBER_FIELDS,
        )
    assert equal, (custom, custom_field_numbers(custom, NUMBER_FIELDS), from_sql)


async def _stale_rows(conn: asyncpg.Connection, account_id: int) -> list[asyncpg.Record]:
    """Contacts whose numbers are not those of their custom values."""
    definitions = await accounts_store.list_custom_fields(conn, account_id)
    number_fields = number_indexed_fields({d.key: d for d in definitions})
    return await conn.fetch(
        "SELECT id, custom_fields, custom_field_numbers FROM contacts WHERE account_id = $1 "
        "AND custom_field_numbers <> contact_custom_field_numbers(custom_fields, $2::jsonb)",
        account_id,
        number_fields,
    )


async def test_every_writer_keeps_the_numbers(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount, pool: asyncpg.Pool
) -> None:
    account = await make_account()
    h = account.headers
    await add_custom_field(http, h, key="valor", label="Valor", type="decimal")
    await add_custom_field(http, h, key="visita", label="Visita", type="datetime")
    await add_custom_field(http, h, key="nota", label="Nota", type="text")
    created = await add_contact(http, h, custom_fields={"valor": "1.50", "visita": "2025-01-02T03:04:05+05:30"})
    cleared = await add_contact(http, h, custom_fields={"valor": "7", "nota": "7"})
    response = await http.patch(f"/v1/contacts/{cleared['id']}", json={"custom_fields": {"valor": None}}, headers=h)
    assert response.status_code == 200, response.text
    changed = await add_contact(http, h, custom_fields={"valor": "2"})
    response = await http.patch(
        f"/v1/contacts/{changed['id']}",
        json={"custom_fields": {"valor": "-3.25", "visita": "1960-06-01T00:00:00Z"}},
        headers=h,
    )
    assert response.status_code == 200, response.text
    bulk_updated = await add_contact(http, h, custom_fields={"valor": "9"})
    result = await contacts_client.bulk_apply(
        account.id,
        batch(
            [
                update_row(2, bulk_updated["id"], valor="9.000001", visita="2030-12-31T23:59:59.999999-03:00"),
                create_row(3, name="Nova", valor="0.10", visita="2026-03-01T09:00:00-03:00"),
            ],
            fields=["name", "valor", "visita"],
        ),
    )
    assert {o.outcome.value for o in result.outcomes} == {"updated", "created"}, result.outcomes
    async with pool.acquire() as conn:
        numbers = {
            r["id"]: r["custom_field_numbers"]
            for r in await conn.fetch("SELECT id, custom_field_numbers FROM contacts WHERE account_id = $1", account.id)
        }
        assert numbers[created["id"]] == {
            "valor": 1.5,
            "visita": datetime(2025, 1, 1, 21, 34, 5, tzinfo=UTC).timestamp(),
        }
        assert numbers[cleared["id"]] == {}  # "nota" is text, and "valor" was cleared
        assert numbers[changed["id"]] == {"valor": -3.25, "visita": datetime(1960, 6, 1, tzinfo=UTC).timestamp()}
        assert sum(1 for n in numbers.values() if len(n) == 2) == 4
        assert await _stale_rows(conn, account.id) == []

    seeded = await make_account()
    async with pool.acquire() as conn:
        await ensure_demo_setup(conn, seeded.id)
        assert await seed_contacts(conn, seeded.id, 300) == 300
        assert await _stale_rows(conn, seeded.id) == []
        with_numbers = await conn.fetchval(
            "SELECT count(*) FROM contacts WHERE account_id = $1 AND custom_field_numbers <> '{}'", seeded.id
        )
        assert with_numbers > 200  # the demo's decimal and datetime fields are mostly filled


async def test_the_migration_fills_the_numbers_of_existing_contacts(
    contacts_settings: ContactsSettings, tmp_path: Path
) -> None:
    """A database migrated up to 0005 with contacts in it, then to the end."""
    database = f"crm_contacts_mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(contacts_settings.postgres.model_copy(update={"database": "postgres"}).dsn())
    await admin.execute(f'CREATE DATABASE "{database}"')
    conn = await asyncpg.connect(contacts_settings.postgres.model_copy(update={"database": database}).dsn())
    try:
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if int(path.name[:4]) < 6:
                shutil.copy(path, tmp_path / path.name)
        await apply_migrations(conn, tmp_path)
        account_id = await conn.fetchval("INSERT INTO accounts (name) VALUES ('Antiga') RETURNING id")
        other_id = await conn.fetchval("INSERT INTO accounts (name) VALUES ('Sem números') RETURNING id")
        for position, (key, field_type) in enumerate((("valor", "decimal"), ("visita", "datetime"), ("nota", "text"))):
            await conn.execute(
                "INSERT INTO custom_field_definitions (account_id, key, label, type, position) "
                "VALUES ($1, $2, $2, $3, $4)",
                account_id,
                key,
                field_type,
                position,
            )
        values: list[dict[str, Any]] = [
            {"valor": "10.50", "visita": "2025-03-01T09:00:00-03:00", "nota": "1"},
            {"visita": "2025-03-01T09:00:00.123456+23:59:59.999999"},
            {"nota": "10.5"},
            {},
            # Left out, not failing the migration: another type's values (what a demo seed
            # writes under its keys when the account defined them otherwise), and a decimal
            # beyond numeric's digits (older decimals had no limit).
            {"valor": "2025-03-01T09:00:00-03:00", "visita": "3057863.05"},
            {"valor": "0." + "1" * 16_384},
        ]
        for custom in values:
            await conn.execute(
                "INSERT INTO contacts (account_id, name, custom_fields) VALUES ($1, 'C', $2::text::jsonb)",
                account_id,
                json.dumps(custom),
            )
        await conn.execute(
            "INSERT INTO contacts (account_id, name, custom_fields) VALUES ($1, 'D', '{\"valor\": \"1\"}')", other_id
        )

        assert await apply_migrations(conn, MIGRATIONS) == [6]

        rows = await conn.fetch(
            "SELECT account_id, custom_fields, custom_field_numbers::text FROM contacts ORDER BY id"
        )
        for index, row in enumerate(rows):
            number_fields = NUMBER_FIELDS if row["account_id"] == account_id else {}
            expected = custom_field_numbers(json.loads(row["custom_fields"]), number_fields)
            assert (expected != "{}") is (index < 2)
            assert await conn.fetchval(
                "SELECT $1::text::jsonb = $2::text::jsonb", expected, row["custom_field_numbers"]
            ), (
                row,
                expected,
            )
        found = await conn.fetchval(
            "SELECT count(*) FROM contacts WHERE custom_field_numbers @> '{\"valor\": 10.5}'::jsonb"
        )
        assert found == 1
    finally:
        await conn.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


async def test_a_value_of_another_type_does_not_stop_its_contacts_edits(
    http: httpx.AsyncClient, contacts_client: ContactsClient, make_account: MakeAccount, pool: asyncpg.Pool
) -> None:
    """The demo seed writes its own types' values under its keys: an account that defined
    `faturamento` as a datetime holds decimals there. Its contacts stay editable (the
    value is left out of the numbers), by the API and by bulk apply."""
    account = await make_account()
    await add_custom_field(http, account.headers, key="faturamento", label="Faturamento", type="datetime")
    async with pool.acquire() as conn:
        await ensure_demo_setup(conn, account.id)
        await seed_contacts(conn, account.id, 5)
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM contacts WHERE account_id = $1", account.id)]
        stored = await conn.fetchval("SELECT custom_fields ->> 'faturamento' FROM contacts WHERE id = $1", ids[0])
    assert stored is not None and "T" not in stored  # a decimal's text, under a datetime field
    response = await http.patch(f"/v1/contacts/{ids[0]}", json={"name": "Renomeado"}, headers=account.headers)
    assert response.status_code == 200, response.text
    result = await contacts_client.bulk_apply(
        account.id, batch([update_row(2, ids[1], company="Nova")], fields=["company"])
    )
    assert result.outcomes[0].outcome.value == "updated", result.outcomes
    async with pool.acquire() as conn:
        assert await _stale_rows(conn, account.id) == []
