"""The seed article's journey driven through `crm-bulk` as a user runs it (a subprocess,
no TTY), on the real stack: list with a filter → export CSV and XLSX → edit the files as
a spreadsheet user would → import with a tag → feedback → start → contacts as edited."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from tests.conftest import Services
from tests.support.accounts import TestAccount, add_contacts, create_account, sample_contacts
from tests.support.stack import KAFKA_BOOTSTRAP, ROOT

pytestmark = pytest.mark.timeout(300)


def cli_env(services: Services, token: str | None, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_BULK_")}
    env.update(
        CRM_BULK_CONTACTS_URL=services.contacts.url,
        CRM_BULK_EXPORT_URL=services.export.url,
        CRM_BULK_IMPORTER_URL=services.importer.url,
        CRM_BULK_KAFKA_BOOTSTRAP=KAFKA_BOOTSTRAP,
        # Never the user's own configuration file.
        CRM_BULK_CONFIG=str(tmp_path / "config.toml"),
        COLUMNS="200",
    )
    if token:
        env["CRM_BULK_TOKEN"] = token
    return env


def run_cli(env: dict[str, str], *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=240, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == expect, f"crm-bulk {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def run_json(env: dict[str, str], *args: str, expect: int = 0) -> Any:
    return json.loads(run_cli(env, *args, "--json", expect=expect).stdout)


@pytest.fixture
async def account(services: Services) -> tuple[TestAccount, list[dict[str, Any]]]:
    made = await create_account(services.contacts.url)
    return made, await add_contacts(services.contacts.url, made, sample_contacts(made, 10))


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream, delimiter=";"))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    # As Excel saves "CSV UTF-8" in a Brazilian locale.
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream, delimiter=";").writerows(rows)


async def test_journey_through_the_cli(services: Services, account, tmp_path: Path):
    test_account, contacts = account
    env = cli_env(services, test_account.token, tmp_path)
    companies = sorted(c["id"] for c in contacts if c["legal_entity"])

    # 1. The filtered list, as JSON for a script and as the table a person reads.
    listed = run_json(env, "contacts", "list", "--legal-entity")
    assert [c["id"] for c in listed["items"]] == companies
    table = run_cli(env, "contacts", "list", "--legal-entity", "--q", "Araújo").stdout
    assert "Conceição Araújo 001" in table and "Conceição Araújo 000" not in table and "SIM" in table

    # 2-3. Export what was listed, wait for the event, download through the pre-signed URL.
    exported = run_json(env, "export", "--legal-entity", "--format", "csv", "--wait", "--output", f"{tmp_path}/")
    csv_path = Path(exported["saved_to"])
    assert exported["state"] == "ready" and csv_path.parent == tmp_path and csv_path.suffix == ".csv"
    rows = read_csv(csv_path)
    header = rows[0]
    assert [int(r[0]) for r in rows[1:]] == companies

    persons = sorted(c["id"] for c in contacts if not c["legal_entity"])[:3]
    xlsx_path = tmp_path / "pessoas.xlsx"
    run_cli(env, "export", "--ids", ",".join(map(str, persons)), "--format", "xlsx", "--wait", "-o", str(xlsx_path))
    assert xlsx_path.stat().st_size > 0

    pages = run_json(env, "exports", "list")
    assert {e["export_id"] for e in pages["items"]} >= {exported["export_id"]}

    # 4. Edit the CSV: a new name, a cleared job title, a new row without ID.
    column = {name: i for i, name in enumerate(header)}
    renamed_id, cleared_id = int(rows[1][0]), int(rows[2][0])
    rows[1][column["Nome"]] = "Maria Renomeada"
    rows[2][column["Cargo"]] = ""
    new_row = [""] * len(header)
    new_row[column["Nome"]] = "Contato Novo Pelo CSV"
    new_row[column["E-mail"]] = f"novo.csv.{test_account.account_id}@exemplo.com.br"
    rows.append(new_row)
    edited_csv = tmp_path / "editado.csv"
    write_csv(edited_csv, rows)

    # 5-8. Import with a tag; with no TTY and no --start it validates but does not start.
    validated = run_json(env, "import", str(edited_csv), "--tag", "revisado-csv")
    import_id = validated["import_id"]
    assert validated["state"] == "validated" and validated["tag"] == "revisado-csv"
    counts = validated["counts"]
    assert (counts["errors"], counts["to_create"], counts["to_update"]) == (0, 1, 2)
    feedback = run_json(env, "imports", "feedback", import_id, "--severity", "warning")["items"]
    new_row_number = len(rows)  # the header is row 1, as the spreadsheet shows it
    assert any(f["row"] == new_row_number and f["header"] == "ID" for f in feedback), feedback
    shown = run_cli(env, "imports", "show", import_id).stdout
    assert "validada" in shown and "a criar" in shown

    # 9. Start it.
    finished = run_json(env, "imports", "start", import_id)
    assert finished["state"] == "completed"
    assert (finished["result"]["created"], finished["result"]["updated"]) == (1, 2)

    # The XLSX round-trip, started in one go with --yes --start.
    workbook = openpyxl.load_workbook(xlsx_path)
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index("Nome") + 1, value="Pedro Editado no Excel")
    sheet.cell(row=3, column=headers.index("Empresa") + 1).value = None  # cell(value=None) would keep it
    appended = [None] * len(headers)
    appended[headers.index("Nome")] = "Contato Novo Pelo XLSX"
    sheet.append(appended)
    edited_xlsx = tmp_path / "pessoas-editado.xlsx"
    workbook.save(edited_xlsx)
    xlsx_renamed, xlsx_cleared = int(sheet.cell(row=2, column=1).value), int(sheet.cell(row=3, column=1).value)
    done = run_json(env, "import", str(edited_xlsx), "--tag", "revisado-xlsx", "--yes", "--start")
    assert done["state"] == "completed" and (done["result"]["created"], done["result"]["updated"]) == (1, 2)
    assert any(i["import_id"] == import_id for i in run_json(env, "imports", "list")["items"])

    # The contacts as edited, read through the contacts API.
    async with httpx.AsyncClient(base_url=services.contacts.url, headers=test_account.headers) as http:
        async def contact(contact_id: int) -> dict[str, Any]:
            return (await http.get(f"/v1/contacts/{contact_id}")).json()

        assert (await contact(renamed_id))["name"] == "Maria Renomeada"
        assert (await contact(cleared_id))["job_title"] is None
        assert "revisado-csv" in (await contact(cleared_id))["tags"]
        assert (await contact(xlsx_renamed))["name"] == "Pedro Editado no Excel"
        assert (await contact(xlsx_cleared))["company"] is None
        for tag, name in (("revisado-csv", "Contato Novo Pelo CSV"), ("revisado-xlsx", "Contato Novo Pelo XLSX")):
            tagged = (await http.get("/v1/contacts", params={"tags": tag})).json()["items"]
            assert name in {c["name"] for c in tagged}
            assert len(tagged) == 3, "the tag goes on the created and the updated contacts only"


async def test_a_sheet_with_errors_is_not_started_and_exits_1(services: Services, account, tmp_path: Path):
    test_account, contacts = account
    env = cli_env(services, test_account.token, tmp_path)
    run_cli(env, "export", "--all", "--wait", "-o", str(tmp_path / "todos.csv"))
    rows = read_csv(tmp_path / "todos.csv")
    email = rows[0].index("E-mail")
    rows[3][email] = "não-é-email"
    rows[4][0] = rows[5][0]  # the same ID twice
    write_csv(tmp_path / "com-erros.csv", rows)

    result = run_cli(env, "--lang", "en", "import", str(tmp_path / "com-erros.csv"), "--yes", expect=1)
    assert "Errors and warnings" in result.stdout
    first_error = result.stdout.index("│ error ")
    assert first_error < result.stdout.index("│ warning "), "errors come first"
    assert "fix it and import again" in result.stderr
    imports = run_json(env, "imports", "list")["items"]
    assert imports[0]["state"] == "validated" and imports[0]["counts"]["errors"] >= 2
    errors = run_json(env, "imports", "feedback", imports[0]["import_id"], "--severity", "error")["items"]
    assert {e["row"] for e in errors} >= {4}
    report = tmp_path / "relatorio.xlsx"
    run_cli(env, "imports", "report", imports[0]["import_id"], "-o", str(report))
    assert openpyxl.load_workbook(report).worksheets[0].max_row >= len(rows)
    async with httpx.AsyncClient(base_url=services.contacts.url, headers=test_account.headers) as http:
        unchanged = (await http.get(f"/v1/contacts/{int(rows[3][0])}")).json()
        assert unchanged["emails"] == next(c for c in contacts if c["id"] == unchanged["id"])["emails"]
