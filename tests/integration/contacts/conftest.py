"""The contacts app in-process (httpx.ASGITransport) on a fresh database of its own.

Each test makes its own account (`make_account`), so tests never depend on each other.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from services.contacts.adapters import accounts_store
from services.contacts.bootstrap import MIGRATIONS, create_app
from services.contacts.config import ContactsPostgres, ContactsSettings
from services.contacts.deps import ContactsDeps
from shared.contacts_client import ContactsClient
from shared.postgres import create_pool, migrate
from shared.settings import ContactsApiSettings
from tests.support.stack import INTERNAL_TOKEN, PG_PORT


@dataclass
class AccountRef:
    id: int
    token: str
    owner_ids: list[int]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
async def contacts_settings(real_infra: None) -> AsyncIterator[ContactsSettings]:
    database = f"crm_contacts_it_{uuid.uuid4().hex[:10]}"
    settings = ContactsSettings(
        postgres=ContactsPostgres(port=PG_PORT, database=database, max_pool_size=20),
        internal_token=SecretStr(INTERNAL_TOKEN),
    )
    await migrate(settings.postgres, MIGRATIONS)
    yield settings
    admin = await asyncpg.connect(settings.postgres.model_copy(update={"database": "postgres"}).dsn())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def pool(contacts_settings: ContactsSettings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(contacts_settings.postgres)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def transport(contacts_settings: ContactsSettings, pool: asyncpg.Pool) -> httpx.ASGITransport:
    app = create_app()
    app.state.deps = ContactsDeps(contacts_settings, pool)
    return httpx.ASGITransport(app=app)


@pytest.fixture
async def http(transport: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport, base_url="http://contacts") as client:
        yield client


@pytest.fixture
async def internal(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """The same client, authenticated as a service."""
    http.headers["Authorization"] = f"Bearer {INTERNAL_TOKEN}"
    return http


@pytest.fixture
async def contacts_client(transport: httpx.ASGITransport) -> AsyncIterator[ContactsClient]:
    settings = ContactsApiSettings(base_url="http://contacts", internal_token=SecretStr(INTERNAL_TOKEN))
    client = ContactsClient(settings, transport=transport)
    yield client
    await client.close()


MakeAccount = Callable[..., Awaitable[AccountRef]]


@pytest.fixture
def make_account(pool: asyncpg.Pool) -> MakeAccount:
    async def make(owners: int = 2) -> AccountRef:
        ref = uuid.uuid4().hex[:8]
        async with pool.acquire() as conn:
            account_id = await accounts_store.create_account(conn, f"Conta {ref}")
            owner_ids = [
                (await accounts_store.add_user(conn, account_id, f"Usuário {i} {ref}", f"u{i}-{ref}@ex.com.br")).id
                for i in range(owners)
            ]
            _, token = await accounts_store.issue_token(conn, account_id, label="tests")
        return AccountRef(account_id, token, owner_ids)

    return make
