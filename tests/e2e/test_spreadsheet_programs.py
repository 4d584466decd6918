"""Files re-saved by a spreadsheet program, on the real stack: an export of a rich account
(accents, line breaks, leading zeros, 20-digit text, text starting with `=`, `+`, `-`,
`@`) opened and saved by LibreOffice (headless, as a Brazilian user's: its locale set to
pt-BR in a private profile), then imported through the real importer.

The cases, and what each must give:
- XLSX → XLSX and XLSX → XLS (`MS Excel 97`): the export marks its text cells as text,
  so nothing changes: 0 errors, every row unchanged.
- CSV → CSV with `;`, Windows-1252, and CSV → CSV with `;`, UTF-8, each column imported
  as *Text* (what the Text Import dialog offers, and what users who keep IDs and leading
  zeros do): nothing changes: 0 errors, every row unchanged.
- CSV → CSV with `;`, Windows-1252, columns left *Standard* (the dialog's default):
  LibreOffice really changes data: `007` becomes `7` and a 20-digit text becomes
  `1,23456789012346E+019`. The importer cannot know the old text from the cell alone, but
  it has the contact: it must report those cells as errors with a hint to import the
  column as text, and start must write nothing wrong.
- A hand-made "Excel pt-BR" CSV (Windows-1252, `;`, CRLF, `dd/mm/yyyy`, `1.234,56`,
  `SIM`/`NÃO`) with edits: applies exactly the edits.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Services
from tests.support import journey
from tests.support.accounts import TestAccount, add_contacts, create_account, sample_contacts

pytestmark = pytest.mark.timeout(240)

READ_ONLY = (None, "id", "created_at", "updated_at")
# What spreadsheets like to break, on top of sample_contacts: contact index → (company, CPF/CNPJ).
TRICKY_TEXT = {
    1: ("007", "0012345"),
    2: ("12345678901234567890", "98765432109876543210"),
    4: ("+55 11 99999-0000", "+123"),
    5: ("@menção", "-42"),
}
MANGLED_BY_STANDARD_COLUMNS = {1, 2}  # 007 → 7; 20 digits → 1,23456789012346E+019

# A Brazilian user's LibreOffice: its locale (dates, decimal comma) is pt-BR.
PT_BR_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>pt-BR</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse"><value>pt-BR</value></prop></item>
</oor:items>
"""

# LibreOffice's CSV filter options: separator (59 `;`), text delimiter (34 `"`), character
# set (76 UTF-8, 1 Windows-1252), first line, column formats (`col/format`, 2 = Text),
# language (1046 pt-BR), quoted field as text, detect special numbers.
UTF8_IN = "CSV:59,34,76,1,{columns},1046,false,false"
CSV_OUT = "csv:Text - txt - csv (StarCalc):59,34,{charset},1"


def libreoffice_resave(source: Path, convert_to: str, infilter: str | None = None) -> Path:
    """Opens `source` in LibreOffice and saves it as `convert_to`, as a user would."""
    profile = Path(f"/tmp/lo-{uuid.uuid4()}")
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PT_BR_PROFILE)
    out = source.parent / f"saved-{uuid.uuid4().hex[:6]}"
    args = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore"]
    if infilter:
        args.append(f"--infilter={infilter}")
    try:
        done = subprocess.run(
            [*args, "--convert-to", convert_to, "--outdir", str(out), str(source)],
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    saved = list(out.glob("*"))
    assert done.returncode == 0 and len(saved) == 1, (done.stdout, done.stderr)
    return saved[0]


async def export_via_api(
    services: Services, account: TestAccount, body: dict[str, Any]
) -> tuple[dict[str, Any], bytes]:
    """Exports as the Exports page does: waits for this export service's own record to be
    ready, then follows its download link (never an event another session answered)."""
    async with httpx.AsyncClient(base_url=services.export.url, headers=account.headers, timeout=60) as http:
        response = await http.post("/v1/exports", json=body)
        assert response.status_code == 202, response.text
        export_id = response.json()["export_id"]
        deadline = time.monotonic() + 120
        while (view := (await http.get(f"/v1/exports/{export_id}")).json())["state"] not in ("ready", "failed"):
            assert time.monotonic() < deadline, view
            await asyncio.sleep(0.2)
        assert view["state"] == "ready", view
        download = await http.get(f"/v1/exports/{export_id}/download", follow_redirects=True)
        assert download.status_code == 200, download.text
        return view, download.content


class RichAccount:
    def __init__(self, account: TestAccount, contacts: list[dict[str, Any]], folder: Path) -> None:
        self.account = account
        self.contacts = contacts
        self.folder = folder
        self.exports: dict[str, tuple[dict[str, Any], bytes]] = {}


@pytest.fixture(scope="module")
async def rich(services: Services, tmp_path_factory: pytest.TempPathFactory) -> RichAccount:
    account = await create_account(services.contacts.url)
    people = sample_contacts(account, 12)
    for index, (company, cpf) in TRICKY_TEXT.items():
        people[index]["company"] = company
        people[index]["custom_fields"]["cpf_cnpj"] = cpf
    made = await add_contacts(services.contacts.url, account, people)
    found = RichAccount(account, made, tmp_path_factory.mktemp("spreadsheets"))
    for file_format in ("csv", "xlsx"):
        found.exports[file_format] = await export_via_api(
            services, account, {"selection": {"all": True}, "format": file_format}
        )
    return found


async def prepare_and_validate(services: Services, account: TestAccount, path: Path) -> tuple[dict[str, Any], list]:
    prepared = await journey.prepare(services, account, path.name, path.read_bytes())
    assert prepared.status_code == 201, prepared.text
    view = prepared.json()
    assert view["columns"][0]["suggested_field"] == "id", view["columns"]
    fields = [c["suggested_field"] for c in view["columns"] if c["suggested_field"] not in READ_ONLY]
    validated = await journey.confirm(services, account, view["import_id"], {"fields": fields})
    assert validated["state"] == "validated", validated
    return validated, await journey.feedback(services, account, view["import_id"])


def assert_nothing_changes(rich: RichAccount, validated: dict[str, Any], items: list[dict[str, Any]]) -> None:
    errors = [i for i in items if i["severity"] == "error"]
    assert errors == [], errors
    counts = validated["counts"]
    assert counts["rows"] == len(rich.contacts)
    assert (counts["to_create"], counts["to_update"], counts["unchanged"]) == (0, 0, len(rich.contacts)), counts
    assert not any(counts["field_changes"].values()), counts["field_changes"]
    assert validated["ready_to_start"] is True


def saved_export(rich: RichAccount, file_format: str) -> Path:
    data, content = rich.exports[file_format]
    path = rich.folder / f"{uuid.uuid4().hex[:6]}-{data['file_name']}"
    path.write_bytes(content)
    return path


def text_columns(csv_path: Path) -> str:
    header = journey.read_ptbr_csv(csv_path.read_bytes())[0]
    return "/".join(f"{n}/2" for n in range(1, len(header) + 1))


@pytest.mark.parametrize("convert_to", ["xlsx", "xls"])
async def test_an_xlsx_resaved_by_libreoffice_imports_with_no_change(
    services: Services, rich: RichAccount, convert_to: str
) -> None:
    saved = await asyncio.to_thread(libreoffice_resave, saved_export(rich, "xlsx"), convert_to)
    validated, items = await prepare_and_validate(services, rich.account, saved)
    assert validated["sheet"]["format"] == convert_to
    assert_nothing_changes(rich, validated, items)


@pytest.mark.parametrize(("charset", "encoding"), [(1, "cp1252"), (76, "utf-8")], ids=["windows-1252", "utf-8"])
async def test_a_csv_resaved_by_libreoffice_with_text_columns_imports_with_no_change(
    services: Services, rich: RichAccount, charset: int, encoding: str
) -> None:
    source = saved_export(rich, "csv")
    infilter = UTF8_IN.format(columns=text_columns(source))
    saved = await asyncio.to_thread(libreoffice_resave, source, CSV_OUT.format(charset=charset), infilter)
    content = saved.read_bytes()
    content.decode(encoding)  # really saved in that encoding
    if encoding == "cp1252":
        with pytest.raises(UnicodeDecodeError):
            content.decode("utf-8")
    assert b";" in content.splitlines()[0]
    validated, items = await prepare_and_validate(services, rich.account, saved)
    assert_nothing_changes(rich, validated, items)


async def test_a_csv_resaved_with_standard_columns_reports_the_mangled_cells(
    services: Services, rich: RichAccount
) -> None:
    """LibreOffice's default column type turns `007` into `7` and a 20-digit text into
    `1,23456789012346E+019`. Those are real changes the user did not make: each must be an
    error at its row and column with a hint to import the column as text, and start must
    then be refused, so that nothing wrong is written."""
    source = saved_export(rich, "csv")
    saved = await asyncio.to_thread(libreoffice_resave, source, CSV_OUT.format(charset=1), UTF8_IN.format(columns=""))
    rows = journey.read_ptbr_csv(saved.read_bytes().decode("cp1252").encode())
    by_id = {int(r[0]): r for r in rows[1:]}
    company, cpf = rows[0].index("Empresa"), rows[0].index("CPF/CNPJ")
    mangled = [rich.contacts[i] for i in sorted(MANGLED_BY_STANDARD_COLUMNS)]
    assert [(by_id[c["id"]][company], by_id[c["id"]][cpf]) for c in mangled] == [  # what LibreOffice did
        ("7", "12345"),
        ("1,23456789012346E+019", "9,87654321098765E+019"),
    ]

    validated, items = await prepare_and_validate(services, rich.account, saved)
    errors = [i for i in items if i["severity"] == "error"]
    rows_shown = [rows.index(by_id[c["id"]]) + 1 for c in mangled]  # as the spreadsheet shows them
    assert {(i["row"], i["header"]) for i in errors} == {
        (row, header) for row in rows_shown for header in ("Empresa", "CPF/CNPJ")
    }, items
    assert all("texto" in i["message"].lower() for i in errors), errors
    assert validated["ready_to_start"] is False
    async with httpx.AsyncClient(headers=rich.account.headers, timeout=30) as http:
        refused = await http.post(f"{services.importer.url}/v1/imports/{validated['import_id']}/start")
    assert refused.status_code == 202 and refused.json()["accepted"] is False, refused.text
    for original in mangled:
        now = await journey.contact(services, rich.account, original["id"])
        assert (now["version"], now["company"]) == (original["version"], original["company"])


async def test_a_hand_made_excel_ptbr_csv_applies_its_edits(services: Services, rich: RichAccount) -> None:
    """Windows-1252, `;`, CRLF, `dd/mm/yyyy`, `1.234,56`, `SIM`/`NÃO`, as Excel pt-BR's
    "CSV (separado por vírgulas)" saves: the edits are applied, nothing else."""
    account = await create_account(services.contacts.url)
    made = await add_contacts(services.contacts.url, account, sample_contacts(account, 3))
    header = ["ID", "Nome", "Jurídico", "Faturamento", "Aniversário", "VIP", "Funcionários", "Observações"]
    rows = [
        header,
        [str(made[0]["id"]), "Conceição Araújo Editada", "SIM", "1.234,56", "25/12/1985", "NÃO", "1.200", "Tudo ok"],
        [str(made[1]["id"]), made[1]["name"], "NÃO", "98.765,40", "01/02/2003", "SIM", "7", "Linha A\r\nLinha B"],
        [str(made[2]["id"]), made[2]["name"], "SIM" if made[2]["legal_entity"] else "NÃO",
         "1.236,56", "12/03/1990", "SIM" if made[2]["custom_fields"]["vip"] else "NÃO", "12",
         made[2]["custom_fields"]["observacoes"]],
    ]  # fmt: skip
    content = journey.write_ptbr_csv(rows, encoding="cp1252")
    assert b"\r\n" in content and "Jurídico".encode("cp1252") in content
    prepared = await journey.prepare(services, account, "contatos.csv", content)
    assert prepared.status_code == 201, prepared.text
    view = prepared.json()
    fields = [c["suggested_field"] for c in view["columns"] if c["suggested_field"] not in READ_ONLY]
    assert fields == ["name", "legal_entity", "faturamento", "aniversario", "vip", "funcionarios", "observacoes"]
    validated = await journey.confirm(services, account, view["import_id"], {"fields": fields})
    items = await journey.feedback(services, account, view["import_id"])
    assert [i for i in items if i["severity"] == "error"] == []
    assert (validated["counts"]["to_update"], validated["counts"]["unchanged"]) == (2, 1), validated["counts"]
    finished = await journey.start_and_finish(services, account, view["import_id"])
    assert finished["result"] == {"created": 0, "updated": 2, "unchanged": 1, "skipped": 0, "failed": 0}

    first = await journey.contact(services, account, made[0]["id"])
    assert first["name"] == "Conceição Araújo Editada" and first["legal_entity"] is True
    custom = first["custom_fields"]
    assert (custom["faturamento"], custom["aniversario"], custom["vip"]) == ("1234.56", "1985-12-25", False)
    assert (custom["funcionarios"], custom["observacoes"]) == (1200, "Tudo ok")
    second = await journey.contact(services, account, made[1]["id"])
    assert second["legal_entity"] is False and second["custom_fields"]["vip"] is True
    assert second["custom_fields"]["faturamento"] == "98765.40" or second["custom_fields"]["faturamento"] == "98765.4"
    assert second["custom_fields"]["aniversario"] == "2003-02-01"
    assert second["custom_fields"]["observacoes"] == "Linha A\nLinha B"
    third = await journey.contact(services, account, made[2]["id"])
    assert third["version"] == made[2]["version"]
