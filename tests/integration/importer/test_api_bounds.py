"""Inputs of the importer's API that reach PostgreSQL are bounded there: a number past
its column's type or text holding NUL is the caller's mistake (422), never a 500 from
asyncpg or the server; and a sheet holding NUL validates, with the NUL reported at its
cell, instead of failing on what the importer stores about it."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from services.importer.domain.readers import open_sheet
from shared.bounds import INT_MAX
from tests.integration.importer.conftest import Importer
from tests.integration.importer.sheets import HEADER_PT, csv_bytes, xlsx_bytes, xlsx_with_nul


async def _validated(importer: Importer) -> tuple[str, dict[str, str]]:
    account_id, headers = importer.account()
    ana = importer.contacts.add_contact(account_id, "Ana", emails=["ana@x.com.br"], lifecycle_stage="lead")
    rows = [HEADER_PT, [ana.id, "Ana", "sem-arroba", "Lead", "NÃO"]]
    response = await importer.upload(headers, csv_bytes(rows))
    assert response.status_code == 201, response.text
    import_id = str(response.json()["import_id"])
    view = await importer.confirm(import_id, headers, {"fields": ["name", "emails"]})
    assert view["state"] == "validated", view
    return import_id, headers


async def _feedback(importer: Importer, import_id: str, headers: dict[str, str], **query: Any) -> Any:
    return await importer.http.get(f"/v1/imports/{import_id}/feedback", headers=headers, params=query)


@pytest.fixture
async def validated(importer: Importer) -> tuple[str, dict[str, str]]:
    return await _validated(importer)


# Rows outside PostgreSQL's integer, codes that are no code (docs/feedback-codes.md), NUL.
@pytest.mark.parametrize(
    ("name", "value"),
    [
        *(("row", row) for row in (INT_MAX + 1, 0, -1, 10**20)),
        *(("code", code) for code in ("\x00", "invalid\x00email", "INVALID_EMAIL", "x" * 65, "a b", "_")),
        *(("severity", severity) for severity in ("\x00", "error\x00")),
    ],
)
async def test_feedback_filters_outside_their_columns_are_refused(
    importer: Importer, validated: tuple[str, dict[str, str]], name: str, value: object
) -> None:
    import_id, headers = validated
    response = await _feedback(importer, import_id, headers, **{name: value})
    assert response.status_code == 422, response.text


async def test_feedback_rows_and_cursors_at_the_bounds_are_answered(
    importer: Importer, validated: tuple[str, dict[str, str]]
) -> None:
    import_id, headers = validated
    assert [i["code"] for i in (await _feedback(importer, import_id, headers, row=2)).json()["items"]] == [
        "invalid_email"
    ]
    assert (await _feedback(importer, import_id, headers, row=INT_MAX)).json()["items"] == []
    last = await _feedback(importer, import_id, headers, cursor=f"{INT_MAX}:{INT_MAX}")
    assert last.status_code == 200 and last.json()["items"] == []
    first = await _feedback(importer, import_id, headers, cursor="0:0", code="invalid_email")
    assert [i["row"] for i in first.json()["items"]] == [2]


@pytest.mark.parametrize(
    "cursor",
    ["99999999999:1", "1:99999999999999999999", f"{INT_MAX + 1}:0", f"0:{INT_MAX + 1}", "-1:0", "1:2:3", "x", "1:"],
)
async def test_a_feedback_cursor_outside_its_columns_is_an_invalid_cursor(
    importer: Importer, validated: tuple[str, dict[str, str]], cursor: str
) -> None:
    import_id, headers = validated
    response = await _feedback(importer, import_id, headers, cursor=cursor)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "invalid cursor"


@pytest.mark.parametrize(
    "cursor",
    [
        "0001-01-01T00:00:00+05:00|00000000-0000-4000-8000-000000000000",  # before year 1 in UTC
        "9999-12-31T23:00:00-05:00|00000000-0000-4000-8000-000000000000",  # after year 9999 in UTC
        "2024-01-01T00:00:00+00:00|not-a-uuid",
        "yesterday|00000000-0000-4000-8000-000000000000",
    ],
)
async def test_an_imports_cursor_outside_timestamptz_is_an_invalid_cursor(importer: Importer, cursor: str) -> None:
    _, headers = importer.account()
    response = await importer.http.get("/v1/imports", headers=headers, params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "invalid cursor"


async def test_an_imports_cursor_at_the_ends_of_the_calendar_is_answered(importer: Importer) -> None:
    _, headers = importer.account()
    for cursor in (
        "0001-01-01T00:00:00+00:00|00000000-0000-4000-8000-000000000000",
        "9999-12-31T23:59:59+00:00|00000000-0000-4000-8000-000000000000",
    ):
        response = await importer.http.get("/v1/imports", headers=headers, params={"cursor": cursor})
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"fields": ["name"], "tag": "revisão\x00"},
        {"fields": {"1": "na\x00me"}},
        {"fields": ["na\x00me"]},
        {"fields": {"99999999999999999999": "name"}},
        {"fields": {"-99999999999999999999": "name"}},
    ],
    ids=["tag", "field-by-column", "field-by-key", "huge-column", "negative-column"],
)
async def test_a_confirmation_that_cannot_be_stored_is_refused_and_changes_nothing(
    importer: Importer, body: dict[str, Any]
) -> None:
    _, headers = importer.account()
    response = await importer.upload(headers, csv_bytes([HEADER_PT, ["", "Ana", "", "Lead", "NÃO"]]))
    import_id = response.json()["import_id"]
    refused = await importer.http.post(f"/v1/imports/{import_id}/confirm", headers=headers, json=body)
    assert refused.status_code == 422, refused.text
    view = (await importer.http.get(f"/v1/imports/{import_id}", headers=headers)).json()
    assert (view["state"], view["tag"]) == ("prepared", None)


async def test_a_sheet_name_with_nul_is_a_sheet_not_found(importer: Importer) -> None:
    _, headers = importer.account()
    content = xlsx_bytes([HEADER_PT, ["", "Ana", "", "Lead", "NÃO"]])
    response = await importer.upload(headers, content, name="c.xlsx", sheet_name="Conta\x00tos")
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body["state"]) == ("sheet_not_found", "failed")
    assert "Conta\ufffdtos" in body["message"]
    stored = (await importer.http.get(f"/v1/imports/{body['import_id']}", headers=headers)).json()
    assert stored["error"]["message"] == body["message"]


async def test_an_xlsx_with_nul_validates_with_an_error_at_its_cell_and_a_readable_report(
    importer: Importer, tmp_path: Path
) -> None:
    account_id, headers = importer.account()
    fake = importer.contacts
    ana = fake.add_contact(account_id, "Ana", emails=["ana@x.com.br"], lifecycle_stage="lead", legal_entity=False)
    bia = fake.add_contact(account_id, "Bia", emails=["bia@x.com.br"], lifecycle_stage="lead", legal_entity=False)
    rows = [
        [*HEADER_PT, "Observação\x00"],  # F: matches no field, stored with the others
        [ana.id, "Ana\x00B", "ana@x.com.br", "Lead", "NÃO", "nota\x00"],
        [bia.id, "Bia Nova", "bia@x.com.br", "Lead", "NÃO", ""],
        ["", "Nova", "nova\x00@x.com.br", "Lead", "NÃO", ""],
    ]
    prepared = await importer.upload(headers, xlsx_with_nul(rows), name="contatos.xlsx")
    assert prepared.status_code == 201, prepared.text
    columns = prepared.json()["columns"]
    assert [(c["letter"], c["header"], c["suggested_field"]) for c in columns][-1] == ("F", "Observação\ufffd", None)
    import_id = prepared.json()["import_id"]

    view = await importer.confirm(import_id, headers, {"fields": ["name", "emails"]})
    assert view["state"] == "validated", view
    assert (view["counts"]["rows_with_errors"], view["counts"]["to_update"], view["ready_to_start"]) == (2, 1, False)
    errors = await importer.feedback(import_id, headers, severity="error")
    assert [(i["row"], i["code"], i["column"], i["header"], i["field"], i["value"]) for i in errors] == [
        (2, "nul_character", "B", "Nome", "name", "Ana\ufffdB"),
        (4, "nul_character", "C", "E-mail", "emails", "nova\ufffd@x.com.br"),
    ]
    assert errors[0]["message"].startswith("Linha 2, coluna B (Nome): a célula contém um caractere invisível NUL")
    assert [i["code"] for i in await importer.feedback(import_id, headers, code="nul_character")] == [
        "nul_character"
    ] * 2

    report = await importer.http.get(f"/v1/imports/{import_id}/report", headers=headers)
    assert report.status_code == 200, report.text
    messages = [r[-1] for r in load_workbook(io.BytesIO(report.content)).active.iter_rows(values_only=True)]
    assert "NUL" in messages[1] and messages[2] is None
    # The report holds the cells as the file did: re-importing it finds the NUL again.
    with zipfile.ZipFile(io.BytesIO(report.content)) as archive:
        assert b"Ana_x0000_B" in b"".join(archive.read(name) for name in archive.namelist())
    local = tmp_path / "report.xlsx"
    local.write_bytes(report.content)
    with open_sheet(local) as reread:
        assert next(iter(reread.rows())).cells[1] == "Ana\x00B"


async def test_a_file_name_with_nul_is_stored_without_it(importer: Importer) -> None:
    """Clients percent-encode it; a raw one must not reach the import's record either."""
    _, headers = importer.account()
    boundary = "nul-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="con\x00tatos.csv"\r\n\r\n'.encode()
        + csv_bytes([HEADER_PT, ["", "Ana", "", "Lead", "NÃO"]])
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await importer.http.post(
        "/v1/imports",
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body,
    )
    assert response.status_code == 201, response.text
    assert response.json()["file_name"] == "contatos.csv"


async def test_an_accept_language_with_nul_picks_a_locale_and_stores_nothing_else(importer: Importer) -> None:
    _, headers = importer.account()
    content = csv_bytes([HEADER_PT, ["", "Ana", "", "Lead", "NÃO"]])
    response = await importer.http.post(
        "/v1/imports",
        headers={**headers, "Accept-Language": "en\x00;q=1e999, \x00"},
        files={"file": ("c.csv", content)},
    )
    assert response.status_code == 201, response.text
    async with importer.pool.acquire() as conn:
        locale = await conn.fetchval(
            "SELECT locale FROM imports WHERE import_id = $1", uuid.UUID(response.json()["import_id"])
        )
    assert locale in ("en", "pt-BR")
