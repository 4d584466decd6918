"""Prepare: the upload streamed to S3 and read; the job `prepared` (or `failed`)."""

from __future__ import annotations

import os
import uuid

from tests.integration.importer.conftest import MAX_UPLOAD_BYTES, Importer
from tests.integration.importer.sheets import HEADER_PT, csv_bytes, xlsx_bytes


async def test_prepare_a_brazilian_csv(importer: Importer) -> None:
    _, headers = importer.account()
    content = csv_bytes(
        [HEADER_PT, ["", "José Araújo", "jose@exemplo.com.br", "Lead", "NÃO"], ["", "Ana", "", "", "SIM"]]
    )
    response = await importer.upload(headers, content, name="C:\\Users\\ana\\Área de Trabalho\\planilha.csv")
    assert response.status_code == 201, response.text
    view = response.json()
    assert view["state"] == "prepared"
    assert view["file_name"] == "planilha.csv"
    assert view["sheet"]["format"] == "csv"
    assert view["sheet"]["row_count"] == 2
    assert [c["suggested_field"] for c in view["columns"]] == [
        "id", "name", "emails", "lifecycle_stage", "legal_entity",
    ]  # fmt: skip
    assert all(c["letter"] is None for c in view["columns"])
    record = await importer.deps.repository.get(_account(headers), uuid.UUID(view["import_id"]))
    assert record is not None
    # The key never comes from the user's file name.
    assert record.object_key == f"imports/{_account(headers)}/{view['import_id']}/upload"
    assert (await importer.deps.store.stat(record.object_key)).size == len(content)


async def test_prepare_an_xlsx_with_letters(importer: Importer) -> None:
    _, headers = importer.account()
    content = xlsx_bytes([["Nome", "Coluna estranha", "Email"], ["Ana", "x", "ana@x.com.br"]])
    response = await importer.upload(headers, content, name="contatos.xlsx")
    assert response.status_code == 201, response.text
    view = response.json()
    assert view["sheet"]["format"] == "xlsx"
    assert [(c["letter"], c["suggested_field"]) for c in view["columns"]] == [
        ("A", "name"), ("B", None), ("C", "emails"),
    ]  # fmt: skip


async def test_a_refused_file_fails_the_import_with_its_code(importer: Importer) -> None:
    _, headers = importer.account()
    response = await importer.upload(headers, b"ID;Nome\r\n", name="vazio.csv")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "header_only"
    assert "cabeçalho" in body["message"]
    view = (await importer.http.get(f"/v1/imports/{body['import_id']}", headers=headers)).json()
    assert view["state"] == "failed"
    assert view["error"]["code"] == "header_only"
    english = await importer.http.post(
        "/v1/imports",
        headers={**headers, "Accept-Language": "en-US,en;q=0.9,pt;q=0.5"},
        files={"file": ("lixo.csv", os.urandom(2048) + b"\x00" * 100)},
    )
    assert english.status_code == 422
    assert english.json()["code"] in {"binary_file", "nul_bytes"}
    assert english.json()["message"].isascii()


async def test_an_upload_over_the_limit_is_refused_with_413(importer: Importer) -> None:
    _, headers = importer.account()
    big = b"Nome\r\n" + b"x" * (MAX_UPLOAD_BYTES + 10)
    response = await importer.upload(headers, big)
    assert response.status_code == 413
    assert "MB" in response.json()["message"]
    listed = (await importer.http.get("/v1/imports", headers=headers)).json()
    assert listed["items"] == []  # nothing recorded


async def test_no_token_is_401_and_another_accounts_import_is_404(importer: Importer) -> None:
    _, headers = importer.account()
    _, other = importer.account()
    response = await importer.upload(headers, csv_bytes([["Nome"], ["Ana"]]))
    import_id = response.json()["import_id"]
    assert (await importer.http.get(f"/v1/imports/{import_id}")).status_code == 401
    assert (await importer.http.get(f"/v1/imports/{import_id}", headers=other)).status_code == 404
    for path in ("feedback", "report"):
        assert (await importer.http.get(f"/v1/imports/{import_id}/{path}", headers=other)).status_code == 404
    assert (await importer.http.post(f"/v1/imports/{import_id}/start", headers=other)).status_code == 404
    confirm = await importer.http.post(f"/v1/imports/{import_id}/confirm", headers=other, json={"fields": ["name"]})
    assert confirm.status_code == 404


def _account(headers: dict[str, str]) -> int:
    return int(headers["Authorization"].rsplit("-", 1)[1])


async def test_an_exported_xlsx_is_mapped_by_its_hidden_field_keys(importer: Importer) -> None:
    from datetime import UTC, datetime

    from services.export.domain.columns import build_columns
    from services.export.domain.xlsx_writer import XlsxExportWriter

    account_id, headers = importer.account()
    contact = importer.contacts.add_contact(account_id, "Ana", emails=["ana@x.com.br"], lifecycle_stage="lead")
    context = importer.contacts.accounts[account_id]
    writer = XlsxExportWriter(
        build_columns(context, "pt-BR", None), context, uuid.uuid4(), "pt-BR", created_at=datetime.now(UTC)
    )
    content = b"".join([*writer.write_rows([contact]), *writer.close()])
    response = await importer.upload(headers, content, name="contatos-exportados.xlsx")
    assert response.status_code == 201, response.text
    columns = response.json()["columns"]
    assert {c["source"] for c in columns if c["suggested_field"]} == {"export_metadata"}
    assert [c["suggested_field"] for c in columns][:3] == ["id", "name", "emails"]
