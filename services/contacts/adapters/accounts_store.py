"""Accounts and what belongs to them (users, stages, custom fields, API tokens)."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.contacts.domain.contact_state import AccountRules
from services.contacts.domain.custom_field_rules import CustomFieldDefinition
from services.contacts.domain.default_stages import DEFAULT_LIFECYCLE_STAGES
from services.contacts.domain.tokens import generate_token, hash_token
from shared.contacts_api import (
    AccountContext,
    LifecycleStage,
    Owner,
    TokenIntrospection,
)
from shared.contacts_api import (
    CustomFieldDefinition as CustomFieldModel,
)
from shared.fields import FieldType


class UnknownAccountError(LookupError):
    def __init__(self, account_id: int) -> None:
        super().__init__(f"unknown account {account_id}")
        self.account_id = account_id


class DuplicateError(ValueError):
    """A unique key (custom field key, user email) that the account already has."""


async def create_account(
    conn: asyncpg.Connection, name: str, locale: str = "pt-BR", timezone: str = "America/Sao_Paulo"
) -> int:
    async with conn.transaction():
        account_id: int = await conn.fetchval(
            "INSERT INTO accounts (name, locale, timezone) VALUES ($1, $2, $3) RETURNING id",
            name,
            locale,
            timezone,
        )
        await conn.executemany(
            "INSERT INTO lifecycle_stages (account_id, key, name, position) VALUES ($1, $2, $3, $4)",
            [(account_id, key, label, i + 1) for i, (key, label) in enumerate(DEFAULT_LIFECYCLE_STAGES)],
        )
    return account_id


async def find_account_by_name(conn: asyncpg.Connection, name: str) -> int | None:
    value: int | None = await conn.fetchval("SELECT id FROM accounts WHERE name = $1 ORDER BY id LIMIT 1", name)
    return value


async def account_row(conn: asyncpg.Connection, account_id: int) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT id, name, locale, timezone FROM accounts WHERE id = $1", account_id)
    if row is None:
        raise UnknownAccountError(account_id)
    return row


async def add_user(conn: asyncpg.Connection, account_id: int, name: str, email: str) -> Owner:
    await account_row(conn, account_id)
    try:
        row = await conn.fetchrow(
            "INSERT INTO users (account_id, name, email) VALUES ($1, $2, $3) RETURNING id, name, email",
            account_id,
            name,
            email,
        )
    except asyncpg.UniqueViolationError:
        raise DuplicateError(f"the account already has a user with email {email}") from None
    return Owner(**dict(row))


async def list_users(conn: asyncpg.Connection, account_id: int) -> list[Owner]:
    rows = await conn.fetch("SELECT id, name, email FROM users WHERE account_id = $1 ORDER BY id", account_id)
    return [Owner(**dict(r)) for r in rows]


async def list_stages(conn: asyncpg.Connection, account_id: int) -> list[LifecycleStage]:
    rows = await conn.fetch(
        "SELECT key, name, position FROM lifecycle_stages WHERE account_id = $1 ORDER BY position, key",
        account_id,
    )
    return [LifecycleStage(**dict(r)) for r in rows]


async def list_custom_fields(conn: asyncpg.Connection, account_id: int) -> list[CustomFieldDefinition]:
    rows = await conn.fetch(
        "SELECT key, label, type, options, required FROM custom_field_definitions "
        "WHERE account_id = $1 ORDER BY position, key",
        account_id,
    )
    return [
        CustomFieldDefinition(r["key"], r["label"], FieldType(r["type"]), tuple(r["options"]), r["required"])
        for r in rows
    ]


async def create_custom_field(conn: asyncpg.Connection, account_id: int, definition: CustomFieldDefinition) -> None:
    await account_row(conn, account_id)
    try:
        await conn.execute(
            """
            INSERT INTO custom_field_definitions (account_id, key, label, type, options, required, position)
            VALUES ($1, $2, $3, $4, $5, $6,
                    (SELECT coalesce(max(position), 0) + 1 FROM custom_field_definitions
                     WHERE account_id = $1))
            """,
            account_id,
            definition.key,
            definition.label,
            definition.type.value,
            list(definition.options),
            definition.required,
        )
    except asyncpg.UniqueViolationError:
        raise DuplicateError(f"the account already has a custom field {definition.key!r}") from None


def custom_field_model(definition: CustomFieldDefinition) -> CustomFieldModel:
    return CustomFieldModel(
        key=definition.key,
        label=definition.label,
        type=definition.type,
        options=list(definition.options),
        required=definition.required,
    )


async def account_rules(conn: asyncpg.Connection, account_id: int) -> tuple[AccountRules, str]:
    """The account's validation rules and its time zone; UnknownAccountError if none."""
    account = await account_row(conn, account_id)
    stages = await conn.fetch("SELECT key FROM lifecycle_stages WHERE account_id = $1", account_id)
    owners = await conn.fetch("SELECT id FROM users WHERE account_id = $1", account_id)
    fields = await list_custom_fields(conn, account_id)
    rules = AccountRules(
        stage_keys=frozenset(r["key"] for r in stages),
        owner_ids=frozenset(r["id"] for r in owners),
        custom_fields={f.key: f for f in fields},
    )
    return rules, account["timezone"]


async def account_context(conn: asyncpg.Connection, account_id: int) -> AccountContext:
    account = await account_row(conn, account_id)
    return AccountContext(
        account_id=account["id"],
        name=account["name"],
        locale=account["locale"],
        timezone=account["timezone"],
        owners=await list_users(conn, account_id),
        lifecycle_stages=await list_stages(conn, account_id),
        custom_fields=[custom_field_model(f) for f in await list_custom_fields(conn, account_id)],
    )


async def issue_token(
    conn: asyncpg.Connection, account_id: int, label: str | None = None, user_id: int | None = None
) -> tuple[int, str]:
    """A new token (id, secret): the secret is returned here only, and stored hashed."""
    await account_row(conn, account_id)
    if user_id is not None:
        owner = await conn.fetchval("SELECT 1 FROM users WHERE id = $1 AND account_id = $2", user_id, account_id)
        if owner is None:
            raise LookupError(f"user {user_id} is not a user of account {account_id}")
    token = generate_token()
    token_id: int = await conn.fetchval(
        "INSERT INTO api_tokens (account_id, token_sha256, label, user_id) VALUES ($1, $2, $3, $4) RETURNING id",
        account_id,
        hash_token(token),
        label,
        user_id,
    )
    return token_id, token


async def revoke_token(conn: asyncpg.Connection, token_id: int) -> bool:
    """True if the token existed and was not revoked yet."""
    status: str = await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
    )
    return status.endswith(" 1")


_INTROSPECT = """
WITH found AS (
    SELECT id, account_id, user_id, label, last_used_at FROM api_tokens
    WHERE token_sha256 = $1 AND revoked_at IS NULL
), touched AS (
    -- At most one write a minute per token: a busy token must not serialise on its row.
    UPDATE api_tokens SET last_used_at = now()
    WHERE id IN (SELECT id FROM found WHERE last_used_at IS NULL
                 OR last_used_at < now() - interval '1 minute')
)
SELECT id, account_id, user_id, label FROM found
"""


async def introspect_token(conn: asyncpg.Connection, token: str) -> TokenIntrospection | None:
    row: Any = await conn.fetchrow(_INTROSPECT, hash_token(token))
    if row is None:
        return None
    return TokenIntrospection(
        account_id=row["account_id"], token_id=row["id"], user_id=row["user_id"], label=row["label"]
    )
