"""An XLSX holding NUL (`_x0000_`, as Excel writes U+0000) on the real stack: a cell with
it is a validation error at its row and column, naming the field, and is never applied
(PostgreSQL's text cannot store it: the contacts service used to fail the run, which
ended `failed` with a misleading "temporary" reason); a header with it is shown with
"�" instead of failing prepare."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from tests.conftest import Services
from tests.support import journey
from tests.support.accounts import TestAccount, add_contacts, create_account

pytestmark = pytest.mark.timeout(300)

_NUL_MARK = "\u2400NUL\u2400"  # stands for NUL while openpyxl writes (it refuses NUL)


def xlsx_with_nul(rows: Sequence[Sequence[Any]]) -> bytes:
    """Built by openpyxl, then NUL written into the parts as Excel escapes it."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Contatos"
    for row in rows:
        sheet.append([v.replace("\x00", _NUL_MARK) if isinstance(v, str) else v for v in row])
    built = io.BytesIO()
    workbook.save(built)
    source = zipfile.ZipFile(built)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as patched:
        for info in source.infolist():
            patched.writestr(info, source.read(info).replace(_NUL_MARK.encode(), b"_x0000_"))
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as check:
        written = b"".join(check.read(name) for name in check.namelist())
    assert written.count(b"_x0000_") == sum(str(v).count("\x00") for row in rows for v in row)
    return out.getvalue()


@pytest.fixture
async def account(services: Services) -> TestAccount:
    return await create_account(services.contacts.url)


async def _contacts(services: Services, account: TestAccount) -> list[dict[str, Any]]:
    made = await add_contacts(
        services.contacts.url,
        account,
        [
            {"name": "Ana Lima", "emails": [f"ana.{account.account_id}@exemplo.com.br"], "lifecycle_stage": "lead"},
            {"name": "Bia Souza", "emails": [f"bia.{account.account_id}@exemplo.com.br"], "lifecycle_stage": "lead"},
        ],
    )
    return made


async def _state(services: Services, account: TestAccount) -> list[tuple[int, int, str, list[str]]]:
    return sorted(
        (c["id"], c["version"], c["name"], c["emails"]) for c in await journey.all_contacts(services, account)
    )


async def _start(services: Services, account: TestAccount, import_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        response = await http.post(f"{services.importer.url}/v1/imports/{import_id}/start")
    assert response.status_code == 202, response.text
    return dict(response.json())


async def _feedback_en(services: Services, account: TestAccount, import_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(headers={**account.headers, "Accept-Language": "en"}, timeout=30) as http:
        response = await http.get(
            f"{services.importer.url}/v1/imports/{import_id}/feedback", params={"code": "nul_character"}
        )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_cells_with_nul_are_errors_at_their_cells_and_never_applied(
    services: Services, account: TestAccount
) -> None:
    ana, bia = await _contacts(services, account)
    new_email = f"nova\x00.{account.account_id}@exemplo.com.br"
    rows = [
        ["ID", "Nome", "E-mail", "Sessão (Ciclo de vida)"],
        [ana["id"], "Ana\x00B", ana["emails"][0], "Lead"],
        [bia["id"], "Bia Nova", bia["emails"][0], "Lead"],
        ["", "Nova", new_email, "Lead"],  # its email is not looked up: the lookup's SQL would fail
    ]
    before = await _state(services, account)

    prepared = await journey.prepare(services, account, "contatos.xlsx", xlsx_with_nul(rows))
    assert prepared.status_code == 201, prepared.text
    import_id = prepared.json()["import_id"]
    validated = await journey.confirm(services, account, import_id, {"fields": ["name", "emails"]})
    assert validated["state"] == "validated", validated
    counts = validated["counts"]
    assert (counts["rows"], counts["rows_with_errors"], counts["to_update"], counts["to_create"]) == (3, 2, 1, 0)
    assert validated["ready_to_start"] is False

    errors = [i for i in await journey.feedback(services, account, import_id) if i["severity"] == "error"]
    assert [(i["row"], i["code"], i["column"], i["header"], i["field"], i["value"]) for i in errors] == [
        (2, "nul_character", "B", "Nome", "name", "Ana\ufffdB"),
        (4, "nul_character", "C", "E-mail", "emails", new_email.replace("\x00", "\ufffd")),
    ]
    assert errors[0]["message"] == (
        "Linha 2, coluna B (Nome): a célula contém um caractere invisível NUL (U+0000), que não pode ser "
        "gravado. Apague o conteúdo da célula e digite-o novamente."
    )
    english = await _feedback_en(services, account, import_id)
    assert english[0]["message"].startswith("Row 2, column B (Nome): the cell holds an invisible NUL character")

    assert (await _start(services, account, import_id))["accepted"] is False  # errors, not skipped
    assert await _state(services, account) == before

    # Skipping the rows with errors, the rest applies, and the NUL never reaches contacts.
    revalidated = await journey.confirm(
        services, account, import_id, {"fields": ["name", "emails"], "options": {"skip_error_rows": True}}
    )
    assert revalidated["ready_to_start"] is True, revalidated
    finished = await journey.start_and_finish(services, account, import_id)
    assert finished["state"] in ("completed", "completed_with_errors"), finished
    assert (finished["result"]["updated"], finished["result"]["created"], finished["result"]["failed"]) == (1, 0, 0)
    after = {c[0]: c for c in await _state(services, account)}
    assert after.keys() == {ana["id"], bia["id"]}
    assert after[ana["id"]] == next(c for c in before if c[0] == ana["id"])  # unchanged
    assert after[bia["id"]][2] == "Bia Nova"


async def test_a_header_with_nul_is_shown_replaced_and_the_import_validates(
    services: Services, account: TestAccount
) -> None:
    ana, _ = await _contacts(services, account)
    rows = [
        ["ID", "Nome", "E-mail", "Observação\x00"],
        [ana["id"], "Ana Maria", ana["emails"][0], "nota"],
    ]
    prepared = await journey.prepare(services, account, "contatos.xlsx", xlsx_with_nul(rows))
    assert prepared.status_code == 201, prepared.text
    view = prepared.json()
    assert [(c["letter"], c["header"], c["suggested_field"]) for c in view["columns"]] == [
        ("A", "ID", "id"),
        ("B", "Nome", "name"),
        ("C", "E-mail", "emails"),
        ("D", "Observação\ufffd", None),
    ]
    validated = await journey.confirm(services, account, view["import_id"], {"fields": ["name"]})
    assert validated["state"] == "validated", validated
    assert (validated["counts"]["errors"], validated["counts"]["to_update"]) == (0, 1)
    finished = await journey.start_and_finish(services, account, view["import_id"])
    assert finished["state"] == "completed", finished
    assert (await journey.contact(services, account, ana["id"]))["name"] == "Ana Maria"
