"""The importer in-process (its real adapters on the real Kafka, PostgreSQL and S3, its
HTTP API through httpx's ASGI transport) with an in-memory contacts service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from services.importer.bootstrap import MIGRATIONS, ImporterDeps, build_broker, create_app, wire
from services.importer.config import ImporterPostgres, ImporterSettings
from shared.auth import TokenAuthenticator
from shared.contacts_client import ContactsClient
from shared.kafka import ensure_topics
from shared.s3 import ObjectStore
from shared.service_app import connect_infrastructure, start_broker
from shared.settings import KafkaSettings, S3Settings
from tests.integration.importer.fake_contacts import FakeContacts, fake_contacts_app
from tests.support.stack import KAFKA_BOOTSTRAP, PG_PORT, S3_ENDPOINT

TEST_DATABASE = "crm_importer_itest"
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
APPLY_BATCH_SIZE = 3


@pytest.fixture(autouse=True, scope="session")
def _real_servers(real_infra: None) -> None:
    """Starts the local stack when it is not running (tests/conftest.py)."""


async def recreate_database(name: str) -> None:
    """A fresh database per session: the schema is the migrations' as they are now."""
    settings = ImporterPostgres(port=PG_PORT, database="postgres")
    conn = await asyncpg.connect(settings.dsn())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def importer_settings(database: str, **overrides: Any) -> ImporterSettings:
    return ImporterSettings(
        postgres=ImporterPostgres(port=PG_PORT, database=database),
        kafka=KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP),
        s3=S3Settings(endpoint=S3_ENDPOINT),
        # Its own group: a running importer (dev or e2e) never takes these commands, and
        # commands of other databases' imports are ignored here.
        consumer_group=f"crm-bulk-importer-{database}",
        max_upload_bytes=MAX_UPLOAD_BYTES,
        apply_batch_size=APPLY_BATCH_SIZE,
        run_lease_s=3.0,
        **overrides,
    )


@dataclass
class Importer:
    http: httpx.AsyncClient
    deps: ImporterDeps
    contacts: FakeContacts
    pool: asyncpg.Pool

    def account(self) -> tuple[int, dict[str, str]]:
        account_id, token = self.contacts.add_account()
        return account_id, {"Authorization": f"Bearer {token}"}

    async def upload(
        self, headers: dict[str, str], content: bytes, name: str = "contatos.csv", **form: str
    ) -> httpx.Response:
        return await self.http.post("/v1/imports", headers=headers, files={"file": (name, content)}, data=form or None)

    async def wait_state(
        self, import_id: str, headers: dict[str, str], states: tuple[str, ...], timeout_s: float = 30.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            view = (await self.http.get(f"/v1/imports/{import_id}", headers=headers)).json()
            if view["state"] in states:
                return view
            if time.monotonic() > deadline:
                raise AssertionError(f"import {import_id} still {view['state']}, wanted {states}")
            await asyncio.sleep(0.1)

    async def confirm(self, import_id: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"/v1/imports/{import_id}/confirm", headers=headers, json=body)
        assert response.status_code == 202, response.text
        return await self.wait_state(import_id, headers, ("validated", "failed"))

    async def feedback(self, import_id: str, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
        response = await self.http.get(f"/v1/imports/{import_id}/feedback", headers=headers, params=query)
        assert response.status_code == 200, response.text
        return response.json()["items"]


@pytest.fixture(scope="session")
async def importer() -> AsyncIterator[Importer]:
    await recreate_database(TEST_DATABASE)
    settings = importer_settings(TEST_DATABASE)
    fake = FakeContacts()
    contacts = ContactsClient(settings.contacts_api, transport=httpx.ASGITransport(app=fake_contacts_app(fake)))
    broker = build_broker(settings)
    await ensure_topics(settings.kafka)
    infra = await connect_infrastructure(settings, MIGRATIONS, broker)
    store = ObjectStore(settings.s3)
    await store.ensure_bucket()
    deps = wire(settings, infra.pool, broker, store, contacts, TokenAuthenticator(contacts))
    broker.context.set_global("deps", deps)
    await start_broker(infra, settings)
    app = create_app()
    app.state.deps = deps
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://importer") as http:
        yield Importer(http, deps, fake, infra.pool)
    await contacts.close()
    await infra.close()


AsyncCheck = Callable[[], Awaitable[bool]]
