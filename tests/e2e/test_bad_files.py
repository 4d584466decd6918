"""Every bad-input class of the importer, through `POST /v1/imports` on the real importer:
its error code, a message in pt-BR (and in English with `Accept-Language: en`), the import
`failed` (or, over the size limit, no import at all), and no contact written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Services
from tests.corpus import build_hostile as hostile
from tests.support import journey
from tests.support.accounts import TestAccount, add_contacts, create_account, sample_contacts
from tests.support.stack import ServiceProcess, free_port

pytestmark = pytest.mark.timeout(120)


class Victim:
    """An account with contacts whose ids the bad files hold."""

    def __init__(self, account: TestAccount, ids: list[int]) -> None:
        self.account = account
        self.ids = ids


@pytest.fixture(scope="module")
async def victim(services: Services) -> Victim:
    account = await create_account(services.contacts.url)
    made = await add_contacts(services.contacts.url, account, sample_contacts(account, 3))
    return Victim(account, [c["id"] for c in made])


def _csv(text: str) -> Callable[[Victim, Path], bytes]:
    return lambda v, _: text.format(a=v.ids[0], b=v.ids[1], c=v.ids[2]).encode("utf-8")


def _hostile(writer: Callable[[Path], None]) -> Callable[[Victim, Path], bytes]:
    def build(_: Victim, folder: Path) -> bytes:
        path = folder / uuid.uuid4().hex
        writer(path)
        return path.read_bytes()

    return build


def _too_many_columns(v: Victim, _: Path) -> bytes:
    header = ";".join(["ID", "Nome", *(f"Coluna {n}" for n in range(3, 502))])  # 501 columns
    return f"{header}\r\n{v.ids[0]};Nome Novo\r\n".encode()


def _long_cell(v: Victim, _: Path) -> bytes:
    return f"ID;Nome\r\n{v.ids[0]};{'a' * 32_768}\r\n".encode()


def _merged_with_real_ids(v: Victim, folder: Path) -> bytes:
    rows = hostile.inline_row(1, ["ID", "Nome"]) + hostile.inline_row(2, [str(v.ids[0]), "Nome Novo"])
    after = '<mergeCells count="1"><mergeCell ref="B2:B3"/></mergeCells>'
    path = hostile.write_xlsx(folder / "merged.xlsx", {"Contatos": hostile.sheet_xml(rows, after=after)})
    return path.read_bytes()


def _truncated_export_like(v: Victim, folder: Path) -> bytes:
    rows = hostile.inline_row(1, ["ID", "Nome"]) + "".join(
        hostile.inline_row(n, [str(v.ids[n % 3]), f"Nome {n}"]) for n in range(2, 300)
    )
    full = hostile.write_xlsx(folder / "full.xlsx", {"Contatos": hostile.sheet_xml(rows)}).read_bytes()
    return full[: len(full) // 2]


# case → (file name, content, error code). Each file names real contacts of the account.
CASES: dict[str, tuple[str, Callable[[Victim, Path], bytes], str]] = {
    "empty": ("contatos.csv", _csv(""), "empty_file"),
    "header_only": ("contatos.csv", _csv("ID;Nome;E-mail\r\n"), "header_only"),
    "binary_garbage": ("contatos.csv", _hostile(hostile._binary_garbage), "binary_file"),
    "truncated_xlsx": ("contatos.xlsx", _truncated_export_like, "corrupt_file"),
    "zip_bomb": ("contatos.xlsx", _hostile(hostile._zip_bomb), "zip_bomb"),
    "password_protected": ("contatos.xlsx", _hostile(hostile._encrypted_ole2), "password_protected"),
    "too_many_columns": ("contatos.csv", _too_many_columns, "too_many_columns"),
    "cell_over_32767": ("contatos.csv", _long_cell, "cell_too_long"),
    "nul_bytes": ("contatos.csv", _csv("ID;Nome\r\n{a};Nome\x00Novo\r\n{b};Outro\r\n"), "nul_bytes"),
    "unbalanced_quotes": ("contatos.csv", _csv('ID;Nome\r\n{a};Ana\r\n{b};"Bia\r\n{c};Carla\r\n'), "unbalanced_quotes"),
    "merged_cells": ("contatos.xlsx", _merged_with_real_ids, "merged_cells"),
    "xls_is_html": ("contatos.xls", _hostile(hostile._html_as_xls), "xls_is_html"),
}


async def contacts_state(services: Services, account: TestAccount) -> list[tuple[int, int]]:
    return sorted((c["id"], c["version"]) for c in await journey.all_contacts(services, account))


async def upload(
    services: Services, account: TestAccount, name: str, content: bytes, locale: str | None = None
) -> httpx.Response:
    headers = {**account.headers, **({"Accept-Language": locale} if locale else {})}
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        return await http.post(f"{services.importer.url}/v1/imports", files={"file": (name, content)})


@pytest.mark.parametrize("case", list(CASES))
async def test_a_bad_file_fails_with_its_code_and_writes_nothing(
    services: Services, victim: Victim, tmp_path: Path, case: str
) -> None:
    file_name, build, code = CASES[case]
    content = build(victim, tmp_path)
    before = await contacts_state(services, victim.account)

    refused = await upload(services, victim.account, file_name, content)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert (body["code"], body["state"]) == (code, "failed"), body
    english = await upload(services, victim.account, file_name, content, locale="en")
    assert english.status_code == 422 and english.json()["code"] == code, english.text
    pt_br, en = body["message"], english.json()["message"]
    assert pt_br and en and pt_br != en
    assert any(w in pt_br.lower() for w in (" a ", " o ", " é ", " de ", " não ")), pt_br  # Portuguese
    assert any(w in f" {en.lower()}" for w in (" the ", " is ", " it ")), en

    # The Imports page shows it failed, with the same code: nothing left half done.
    view = await journey.get_import(services, victim.account, body["import_id"])
    assert view["state"] == "failed" and view["error"]["code"] == code, view
    async with httpx.AsyncClient(headers=victim.account.headers, timeout=30) as http:
        start = await http.post(f"{services.importer.url}/v1/imports/{body['import_id']}/start")
    assert start.status_code == 202 and start.json()["accepted"] is False, start.text
    assert await contacts_state(services, victim.account) == before


async def test_a_sheet_with_no_recognisable_header_asks_for_the_columns(services: Services, victim: Victim) -> None:
    """Headers that match no field are not refused at upload: the import is `prepared` with
    no suggested field, so that the user maps the columns herself; confirming without any
    field is refused with a clear message, and nothing is written."""
    before = await contacts_state(services, victim.account)
    content = f"Coluna A;Coluna B\r\n{victim.ids[0]};Nome Novo\r\n".encode()
    prepared = await upload(services, victim.account, "sem-cabecalho.csv", content)
    assert prepared.status_code == 201, prepared.text
    view = prepared.json()
    assert view["state"] == "prepared" and [c["suggested_field"] for c in view["columns"]] == [None, None]
    url = f"{services.importer.url}/v1/imports/{view['import_id']}/confirm"
    async with httpx.AsyncClient(headers=victim.account.headers, timeout=30) as http:
        pt_br = await http.post(url, json={"fields": []})
        en = await http.post(url, json={"fields": ["name"]}, headers={"Accept-Language": "en"})
    assert pt_br.status_code == 422 and pt_br.json()["problems"][0]["code"] == "no_field_to_import", pt_br.text
    assert "campo" in pt_br.json()["problems"][0]["message"]
    assert en.status_code == 422 and en.json()["problems"][0]["code"] == "field_not_in_sheet", en.text
    assert "column" in en.json()["problems"][0]["message"]
    assert (await journey.get_import(services, victim.account, view["import_id"]))["state"] == "prepared"
    assert await contacts_state(services, victim.account) == before


LIMIT_BYTES = 100 * 1024


@pytest.fixture(scope="module")
def small_limit_importer(services: Services) -> Any:
    """A replica of the session's importer (same databases, bucket and consumer group) with
    a 100 KiB upload limit."""
    port = free_port()
    env = {**services.importer.env, "IMPORTER_HTTP_PORT": str(port), "IMPORTER_MAX_UPLOAD_BYTES": str(LIMIT_BYTES)}
    replica = ServiceProcess("importer", port, env, services.importer.log_path.with_name("test-importer-limit.log"))
    replica.start()
    yield replica
    replica.stop()


def _big_csv(victim: Victim, size: int) -> bytes:
    line = f"{victim.ids[0]};{'x' * 1000}\r\n".encode()
    return b"ID;Nome\r\n" + line * (size // len(line) + 1)


@pytest.mark.parametrize("size", [LIMIT_BYTES + 20 * 1024, 3 * LIMIT_BYTES], ids=["while-streaming", "by-length"])
async def test_a_file_over_the_size_limit_is_refused_and_creates_no_import(
    services: Services, victim: Victim, small_limit_importer: ServiceProcess, size: int
) -> None:
    """Just over the limit, the importer finds out while streaming; far over it, by the
    request's Content-Length. Either way: 413, and no import on the Imports page."""
    before = await contacts_state(services, victim.account)
    async with httpx.AsyncClient(base_url=small_limit_importer.url, headers=victim.account.headers, timeout=60) as http:
        listed = (await http.get("/v1/imports", params={"limit": 200})).json()["items"]
        content = _big_csv(victim, size)
        pt_br = await http.post("/v1/imports", files={"file": ("grande.csv", content)})
        en = await http.post("/v1/imports", files={"file": ("grande.csv", content)}, headers={"Accept-Language": "en"})
        after = (await http.get("/v1/imports", params={"limit": 200})).json()["items"]
    assert pt_br.status_code == 413 and pt_br.json()["code"] == "upload_too_large", pt_br.text
    assert en.status_code == 413 and en.json()["code"] == "upload_too_large", en.text
    assert pt_br.json()["message"] != en.json()["message"]
    assert "MB" in pt_br.json()["message"] and "MB" in en.json()["message"]
    assert [i["import_id"] for i in after] == [i["import_id"] for i in listed]
    assert await contacts_state(services, victim.account) == before
