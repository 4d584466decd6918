"""The operators' CLI against the test database (settings from CONTACTS_… env)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from services.contacts.config import ContactsSettings
from services.contacts.entrypoints.admin_cli import app


def test_account_user_token_lifecycle_and_seed(
    contacts_settings: ContactsSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTACTS_POSTGRES__DATABASE", contacts_settings.postgres.database)
    monkeypatch.setenv("CONTACTS_POSTGRES__PORT", str(contacts_settings.postgres.port))
    runner = CliRunner()
    created = runner.invoke(app, ["create-account", "Padaria Conceição"])
    assert created.exit_code == 0, created.output
    account_id = created.stdout.strip()
    user = runner.invoke(app, ["add-user", account_id, "João Araújo", "joao@padaria.com.br"])
    assert user.exit_code == 0, user.output
    token = runner.invoke(app, ["issue-token", account_id, "--label", "ci", "--user-id", user.stdout.strip()])
    assert token.exit_code == 0 and token.stdout.strip().startswith("crmb_")
    token_id = token.stderr.split()[2]
    assert runner.invoke(app, ["revoke-token", token_id]).exit_code == 0
    assert runner.invoke(app, ["revoke-token", token_id]).exit_code == 1  # already revoked
    seeded = runner.invoke(app, ["seed", account_id, "--contacts", "300"])
    assert seeded.exit_code == 0 and "added 300 contacts" in seeded.stdout
    unknown = runner.invoke(app, ["add-user", "987654321", "X", "x@x.com"])
    assert unknown.exit_code == 1 and "unknown account" in unknown.stderr
