"""The contacts service as a real process: startup with migrations, health, the client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from pydantic import SecretStr

from services.contacts.adapters import accounts_store
from shared.contacts_client import ContactsClient, UnknownAccount
from shared.settings import ContactsApiSettings
from tests.support.stack import INTERNAL_TOKEN, ServiceProcess, free_port, logs_dir, service_env


@pytest.fixture(scope="module")
def contacts_process(real_infra: None) -> Iterator[tuple[ServiceProcess, str]]:
    port = free_port()
    suffix = f"proc_{uuid.uuid4().hex[:8]}"
    env = service_env("contacts", port, f"http://127.0.0.1:{port}", run_id=suffix)
    process = ServiceProcess("contacts", port, env, logs_dir() / "test-contacts-process.log").start()
    try:
        yield process, env["CONTACTS_POSTGRES__DATABASE"]
    finally:
        process.stop()


async def test_client_against_real_process(contacts_process: tuple[ServiceProcess, str]) -> None:
    process, database = contacts_process
    conn = await asyncpg.connect(f"postgresql://crm_bulk:crm-bulk-dev@127.0.0.1:15432/{database}")
    try:
        account_id = await accounts_store.create_account(conn, "Processo")
        _, token = await accounts_store.issue_token(conn, account_id)
    finally:
        await conn.close()
    client = ContactsClient(ContactsApiSettings(base_url=process.url, internal_token=SecretStr(INTERNAL_TOKEN)))
    try:
        assert await client.is_ready()
        found = await client.introspect_token(token)
        assert found is not None and found.account_id == account_id
        assert (await client.account_context(account_id)).name == "Processo"
        with pytest.raises(UnknownAccount):
            await client.account_context(987_654_321)
    finally:
        await client.close()
    admin = await asyncpg.connect("postgresql://crm_bulk:crm-bulk-dev@127.0.0.1:15432/postgres")
    try:
        process.stop()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()
