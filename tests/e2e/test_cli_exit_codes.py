"""What a script sees from `crm-bulk`: exit codes, configuration once, and the export
still waited for when Kafka is out of reach (polling)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.conftest import Services
from tests.e2e.test_cli_journey import cli_env, run_cli, run_json
from tests.support.accounts import add_contacts, create_account, sample_contacts
from tests.support.stack import free_port

pytestmark = pytest.mark.timeout(180)


async def test_usage_unreachable_and_refused(services: Services, tmp_path: Path):
    env = cli_env(services, None, tmp_path)
    no_token = run_cli(env, "contacts", "list", expect=2)
    assert "token" in no_token.stderr
    env["CRM_BULK_TOKEN"] = "not-a-token"
    run_cli(env, "export", "--format", "csv", expect=2)  # no selection
    run_cli(env, "export", "--ids", "1", "--all", expect=2)
    run_cli(env, "contacts", "list", "--created-from", "31/02/2026", expect=2)
    refused = run_cli(env, "--lang", "en", "exports", "list", expect=2)
    assert "HTTP 401" in refused.stderr
    closed = f"http://127.0.0.1:{free_port()}"
    unreachable = run_cli(env, "--contacts-url", closed, "contacts", "list", expect=3)
    assert "não respondeu" in unreachable.stderr


async def test_configure_once_then_export_by_polling_without_kafka(services: Services, tmp_path: Path):
    account = await create_account(services.contacts.url)
    await add_contacts(services.contacts.url, account, sample_contacts(account, 3))
    env = cli_env(services, None, tmp_path)
    for name in ("CRM_BULK_CONTACTS_URL", "CRM_BULK_EXPORT_URL", "CRM_BULK_IMPORTER_URL"):
        env.pop(name)
    run_cli(
        env, "--token", account.token, "--contacts-url", services.contacts.url, "--export-url", services.export.url,
        "--importer-url", services.importer.url, "--lang", "en", "configure",
    )
    config = tmp_path / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert account.token in config.read_text()

    # A broker nobody listens on: the CLI falls back to polling the export's state.
    unreachable_kafka = f"127.0.0.1:{free_port()}"
    result = run_cli(env, "--kafka", unreachable_kafka, "export", "--all", "--wait", "-o", str(tmp_path / "a.csv"))
    assert "export ready" in result.stderr, "the language came from the config file"
    assert (tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(run_json(env, "contacts", "list")["items"]) == 3
