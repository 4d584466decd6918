"""The seed article's journey on the real stack, through the public HTTP APIs: export →
edit as a user would → import (prepare, confirm with a tag) → feedback → start →
contacts changed exactly as edited."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from tests.conftest import Services
from tests.support import journey
from tests.support.accounts import TestAccount, add_contacts, create_account

pytestmark = pytest.mark.timeout(300)
TAG = "planilha-novembro"


def complete_contacts(account: TestAccount, count: int) -> list[dict[str, Any]]:
    """Contacts with every recommended field filled, so that feedback names only the edits."""
    owners = [o["id"] for o in account.owners]
    return [
        {
            "name": f"Cliente Açaí {i}",
            "emails": [f"cliente{i}.{account.account_id}@exemplo.com.br"],
            "phones": [f"+55219{88000000 + i:08d}"],
            "company": "=Empresa perigosa" if i == 0 else f"Empresa {i}",
            "job_title": "Compras\nSênior",
            "lifecycle_stage": "cliente",
            "owner_id": owners[i % len(owners)],
            "legal_entity": i % 2 == 0,
            "custom_fields": {"cpf_cnpj": f"0{i}.345.678/0001-9{i}", "faturamento": "1234.50", "vip": True},
        }
        for i in range(count)
    ]


@pytest.fixture
async def account(services: Services) -> TestAccount:
    return await create_account(services.contacts.url)


async def test_seed_journey_with_a_csv_edited_as_a_user_would(services: Services, account: TestAccount):
    originals = await add_contacts(services.contacts.url, account, complete_contacts(account, 6))
    ids = [c["id"] for c in originals]
    _, content = await journey.export_file(services, account, {"selection": {"all": True}, "format": "csv"})
    rows = journey.read_ptbr_csv(content)
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    body = {int(r[0]): r for r in rows[1:]}
    assert sorted(body) == sorted(ids), (ids, rows)

    # The edits: a new name and company (row 2), a cleared owner (row 3), a changed ID
    # (row 4: the duplicate the article warns of), contact 4 twice (rows 5 and 8), a new
    # row without ID (row 9).
    body[ids[0]][col["Nome"]] = "Cliente Renomeada"
    body[ids[0]][col["Empresa"]] = "Nova Empresa S/A"
    body[ids[1]][col["Responsável"]] = ""
    changed_id_row = list(body[ids[2]])
    changed_id_row[0] = "9" + str(ids[2]) + "7"
    new_row = [""] * len(header)
    new_row[col["Nome"]] = "Contato Novo Sem ID"
    new_row[col["E-mail"]] = f"novo.{account.account_id}@exemplo.com.br"
    new_row[col["Jurídico"]] = "NÃO"
    edited = [header, body[ids[0]], body[ids[1]], changed_id_row, body[ids[3]], body[ids[4]], body[ids[5]],
              body[ids[3]], new_row]
    upload = journey.write_ptbr_csv(edited, encoding="cp1252")  # as Excel pt-BR saves "CSV (separado por vírgulas)"

    prepared = await journey.prepare(services, account, "contatos editados.csv", upload)
    assert prepared.status_code == 201, prepared.text
    view = prepared.json()
    import_id = view["import_id"]
    assert view["state"] == "prepared" and view["sheet"]["row_count"] == 8
    mapped = {c["header"]: c["suggested_field"] for c in view["columns"]}
    assert mapped["ID"] == "id" and mapped["CPF/CNPJ"] == "cpf_cnpj"
    assert mapped["Sessão (Ciclo de vida)"] == "lifecycle_stage"

    writable = [f for f in mapped.values() if f not in (None, "id", "created_at", "updated_at")]
    validated = await journey.confirm(
        services, account, import_id, {"fields": writable, "tag": TAG, "options": {"skip_error_rows": True}}
    )
    assert validated["state"] == "validated", validated
    items = await journey.feedback(services, account, import_id)
    found = {(i["severity"], i["row"], i["code"]) for i in items}
    expected = {
        ("warning", 3, "recommended_field_empty"),  # Responsável cleared
        ("warning", 4, "new_contact_will_be_created"),  # the changed ID is unknown
        ("warning", 4, "possible_duplicate"),  # ... and its email is contact 3's
        ("error", 5, "duplicate_id"),
        ("error", 8, "duplicate_id"),
        ("warning", 9, "new_contact_will_be_created"),  # no ID
        ("warning", 9, "recommended_field_empty"),  # ... nor Sessão nor Responsável
    }
    assert found == expected, items
    row_9_empty = sorted(i["header"] for i in items if i["row"] == 9 and i["code"] == "recommended_field_empty")
    assert row_9_empty == ["Responsável", "Sessão (Ciclo de vida)"]
    owner_item = next(i for i in items if i["code"] == "recommended_field_empty")
    assert owner_item["header"] == "Responsável" and owner_item["column"] is None
    counts = validated["counts"]
    assert (counts["to_create"], counts["to_update"], counts["unchanged"]) == (2, 2, 2)
    assert validated["ready_to_start"] is True

    finished = await journey.start_and_finish(services, account, import_id)
    assert finished["state"] == "completed", finished
    assert finished["result"] == {"created": 2, "updated": 2, "unchanged": 2, "skipped": 2, "failed": 0}

    renamed = await journey.contact(services, account, ids[0])
    assert renamed["name"] == "Cliente Renomeada" and renamed["company"] == "Nova Empresa S/A"
    assert TAG in renamed["tags"]
    unowned = await journey.contact(services, account, ids[1])
    assert unowned["owner_id"] is None and TAG in unowned["tags"]
    for untouched_id in (ids[2], ids[3], ids[4], ids[5]):
        untouched = await journey.contact(services, account, untouched_id)
        original = next(c for c in originals if c["id"] == untouched_id)
        assert untouched["version"] == original["version"] and TAG not in untouched["tags"]
    everyone = await journey.all_contacts(services, account)
    created = [c for c in everyone if c["id"] not in ids]
    assert sorted(c["name"] for c in created) == ["Cliente Açaí 2", "Contato Novo Sem ID"]
    assert all(TAG in c["tags"] for c in created)
    duplicate = next(c for c in created if c["name"] == "Cliente Açaí 2")
    assert duplicate["emails"] == originals[2]["emails"] and duplicate["company"] == originals[2]["company"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
async def test_an_untouched_export_reimports_with_no_change(services: Services, account: TestAccount, file_format: str):
    from tests.support.accounts import sample_contacts

    originals = await add_contacts(services.contacts.url, account, sample_contacts(account, 15))
    data, content = await journey.export_file(services, account, {"selection": {"all": True}, "format": file_format})
    if file_format == "xlsx":  # the file as the user gets it: openable, one visible sheet
        assert openpyxl.load_workbook(io.BytesIO(content)).sheetnames[0] == "Contatos"
    prepared = await journey.prepare(services, account, data["file_name"], content)
    assert prepared.status_code == 201, prepared.text
    view = prepared.json()
    read_only = (None, "id", "created_at", "updated_at")
    fields = [c["suggested_field"] for c in view["columns"] if c["suggested_field"] not in read_only]
    validated = await journey.confirm(services, account, view["import_id"], {"fields": fields})
    errors = [i for i in await journey.feedback(services, account, view["import_id"]) if i["severity"] == "error"]
    assert errors == []
    counts = validated["counts"]
    assert counts["unchanged"] == len(originals) and counts["to_update"] == 0 and counts["to_create"] == 0, counts
    assert counts["field_changes"] == {} or all(v == 0 for v in counts["field_changes"].values())
