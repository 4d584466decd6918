"""The README's walkthrough, run as written: every command of its block, in order, in a
fresh folder, against the services of this test session."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Services
from tests.support.accounts import add_contacts, create_account, sample_contacts
from tests.support.stack import KAFKA_BOOTSTRAP, ROOT

pytestmark = pytest.mark.timeout(300)


def walkthrough_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Walkthrough", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the README's walkthrough has a ```bash block"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def test_the_walkthrough_block_is_what_this_test_runs():
    commands = walkthrough_commands()
    assert commands[0].startswith("export CRM_BULK_TOKEN=")
    assert any(c.startswith("crm-bulk import ") for c in commands)


async def test_readme_walkthrough_runs_as_written(services: Services, tmp_path: Path):
    account = await create_account(services.contacts.url)
    await add_contacts(services.contacts.url, account, sample_contacts(account, 8))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "CRM_BULK_TOKEN": account.token,
        "CRM_BULK_CONTACTS_URL": services.contacts.url,
        "CRM_BULK_EXPORT_URL": services.export.url,
        "CRM_BULK_IMPORTER_URL": services.importer.url,
        "CRM_BULK_KAFKA_BOOTSTRAP": KAFKA_BOOTSTRAP,
        "CRM_BULK_CONFIG": str(tmp_path / "no-config.toml"),
    }
    for command in walkthrough_commands()[1:]:  # the first sets the token, given above
        result = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert (tmp_path / "contatos.xlsx").stat().st_size > 0
    assert list(tmp_path.glob("contatos-*.csv")), "the CSV export was saved in the folder"
