"""Access to every HTTP endpoint of the three services, enumerated from their OpenAPI
documents: no token or a wrong token is 401; another account's resource is 404 with
nothing of it in the answer; the internal contacts API wants the internal token; a
command naming another account's import does nothing. Object keys are never steered by
file names; pre-signed URLs say who they are for and expire."""

from __future__ import annotations

import asyncio
import re
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from services.contacts.bootstrap import create_app as contacts_app
from services.export.bootstrap import create_app as export_app
from services.importer.bootstrap import create_app as importer_app
from shared import topics
from shared.events import StartImport
from tests.conftest import Services
from tests.reliability.test_delivery import (
    SETTLE_S,
    command_body,
    object_keys,
    seed_contacts,
    send_raw,
)
from tests.support import journey
from tests.support.accounts import TestAccount, create_account
from tests.support.events import EventWatcher
from tests.support.stack import ServiceProcess, free_port

pytestmark = [pytest.mark.infra, pytest.mark.services, pytest.mark.timeout(120)]

APPS = {"contacts": contacts_app, "export": export_app, "importer": importer_app}
WRONG = ("Bearer not-a-token", "Bearer crmb_" + "x" * 43, "Basic Zm9vOmJhcg==", "Bearer", "bearer")
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def endpoints(service: str) -> list[tuple[str, str, dict[str, Any]]]:
    spec = APPS[service]().openapi()
    return [
        (method.upper(), path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_the_openapi_documents_list_every_endpoint_of_the_contract() -> None:
    found = {(s, m, p) for s in APPS for m, p, _ in endpoints(s)}
    for expected in [
        ("export", "POST", "/v1/exports"),
        ("export", "GET", "/v1/exports/{export_id}/download"),
        ("importer", "POST", "/v1/imports/{import_id}/start"),
        ("importer", "GET", "/v1/imports/{import_id}/report"),
        ("contacts", "PATCH", "/v1/contacts/{contact_id}"),
        ("contacts", "POST", "/internal/v1/accounts/{account_id}/bulk-apply"),
    ]:
        assert expected in found


class Resources:
    """Account A's things, to be asked for by path."""

    def __init__(self, account: TestAccount, contact: dict[str, Any], export_id: str, import_id: str) -> None:
        self.account = account
        self.contact = contact
        self.export_id = export_id
        self.import_id = import_id

    def fill(self, path: str) -> str:
        return (
            path.replace("{contact_id}", str(self.contact["id"]))
            .replace("{export_id}", self.export_id)
            .replace("{import_id}", self.import_id)
            .replace("{account_id}", str(self.account.account_id))
        )

    def secrets(self) -> list[str]:
        """What must never appear in an answer to another account."""
        return [self.contact["name"], self.contact["emails"][0], "planilha-secreta", self.account.token]


def request_body(method: str, path: str) -> dict[str, Any]:
    if path.endswith("/confirm"):
        return {"json": {"fields": ["name"]}}
    if path == "/v1/imports" and method == "POST":
        return {"files": {"file": ("a.csv", b"ID;Nome\r\n1;X\r\n")}}
    if path == "/v1/exports" and method == "POST":
        return {"json": {"selection": {"all": True}}}
    if method in ("POST", "PATCH", "PUT"):
        return {"json": {"name": "Intrusa"}}
    return {}


@pytest.fixture(scope="module")
async def two_accounts_ready(services: Services) -> tuple[Resources, TestAccount]:
    """Account A with a contact, a ready export and a validated import; account B."""
    a = await create_account(services.contacts.url, owners=1, custom_fields=())
    b = await create_account(services.contacts.url, owners=1, custom_fields=())
    async with httpx.AsyncClient(headers=a.headers, timeout=30) as http:
        made = await http.post(
            f"{services.contacts.url}/v1/contacts",
            json={"name": "Segredo Açaí da Silva", "emails": [f"segredo.{a.account_id}@exemplo.com.br"]},
        )
        assert made.status_code == 201, made.text
    contact = made.json()
    data, _ = await journey.export_file(services, a, {"selection": {"all": True}})
    rows = [["ID", "Nome"], [str(contact["id"]), "Segredo Renomeado"]]
    prepared = await journey.prepare(services, a, "planilha-secreta.csv", journey.write_ptbr_csv(rows))
    assert prepared.status_code == 201, prepared.text
    import_id = prepared.json()["import_id"]
    await journey.confirm(services, a, import_id, {"fields": ["name"]})
    return Resources(a, contact, str(data["export_id"]), import_id), b


def service_url(services: Services, name: str) -> str:
    return str(getattr(services, name).url)


@pytest.mark.parametrize("service", sorted(APPS))
async def test_every_endpoint_refuses_no_token_and_wrong_tokens(
    services: Services, two_accounts_ready: tuple[Resources, TestAccount], service: str
) -> None:
    resources, _ = two_accounts_ready
    base = service_url(services, service)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for method, path, _ in endpoints(service):
            url = resources.fill(path)
            for authorization in (None, *WRONG):
                headers = {"Authorization": authorization} if authorization is not None else {}
                response = await http.request(method, url, headers=headers, **request_body(method, path))
                assert response.status_code == 401, (method, path, authorization, response.status_code, response.text)
                for secret in resources.secrets():
                    assert secret not in response.text


@pytest.mark.parametrize("service", sorted(APPS))
async def test_another_accounts_resources_are_not_found_and_nothing_leaks(
    services: Services, two_accounts_ready: tuple[Resources, TestAccount], service: str
) -> None:
    resources, intruder = two_accounts_ready
    base = service_url(services, service)
    checked = 0
    async with httpx.AsyncClient(base_url=base, headers=intruder.headers, timeout=30) as http:
        for method, path, _ in endpoints(service):
            if path.startswith("/internal/"):
                continue
            response = await http.request(method, resources.fill(path), **request_body(method, path))
            if "{" in path:  # one resource of A's
                assert response.status_code == 404, (method, path, response.status_code, response.text)
                checked += 1
            else:  # B's own lists and creations: never A's things
                assert response.status_code in (200, 201, 202, 409, 422), (method, path, response.text)
            for leak in (*resources.secrets(), resources.export_id, resources.import_id):
                assert leak not in response.text, (method, path, leak)
    assert checked >= {"contacts": 2, "export": 2, "importer": 5}[service]
    # A's import and contact are untouched by B's attempts (confirm, start, PATCH).
    view = await journey.get_import(services, resources.account, resources.import_id)
    assert view["state"] == "validated" and view["started_at"] is None, view
    contact = await journey.contact(services, resources.account, resources.contact["id"])
    assert contact["name"] == resources.contact["name"]


async def test_the_internal_api_wants_the_internal_token(
    services: Services, two_accounts_ready: tuple[Resources, TestAccount], internal_token: str
) -> None:
    resources, _ = two_accounts_ready
    internal = [(m, p) for m, p, _ in endpoints("contacts") if p.startswith("/internal/")]
    assert len(internal) >= 6
    tries = (
        None,
        *WRONG,
        f"Bearer {resources.account.token}",  # a user's token is not the internal one
        f"Bearer {internal_token}x",
        f"Bearer {internal_token[:-1]}",
    )
    async with httpx.AsyncClient(base_url=services.contacts.url, timeout=30) as http:
        for method, path in internal:
            for authorization in tries:
                headers = {"Authorization": authorization} if authorization is not None else {}
                response = await http.request(method, resources.fill(path), headers=headers, json={})
                assert response.status_code == 401, (method, path, authorization, response.text)
        ping = await http.get("/internal/v1/ping", headers={"Authorization": f"Bearer {internal_token}"})
        assert ping.status_code == 200


async def test_a_start_command_naming_another_account_starts_nothing(
    services: Services, two_accounts_ready: tuple[Resources, TestAccount]
) -> None:
    resources, intruder = two_accounts_ready
    import_id = resources.import_id
    command = StartImport(account_id=intruder.account_id, import_id=uuid.UUID(import_id), requested_by="intruder")
    async with EventWatcher((topics.IMPORT_FINISHED, topics.IMPORT_FAILED, topics.IMPORT_PROGRESS)) as watcher:
        await send_raw(topics.IMPORT_START, command_body(topics.IMPORT_START, import_id, command), import_id)
        await asyncio.sleep(SETTLE_S)
        assert not watcher.events(topics.IMPORT_FINISHED, import_id)
        assert not watcher.events(topics.IMPORT_PROGRESS, import_id)
        # Refused as an import the intruder's account does not have (CONTRACT.md: dead
        # letters and a failed event), naming nothing of the owner's.
        refusals = watcher.events(topics.IMPORT_FAILED, import_id)
        assert [e.data["code"] for e in refusals] == ["unknown_import"]
        assert refusals[0].data["account_id"] == intruder.account_id
        assert f"account {resources.account.account_id}" not in refusals[0].data["message"]
    view = await journey.get_import(services, resources.account, import_id)
    assert view["state"] == "validated" and view["started_at"] is None, view


# --- object keys and file names ------------------------------------------------------------

HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\x.csv",
    "..\\..\\windows\\system32\\x.csv",
    "/etc/cron.d/evil.csv",
    "relatório\u202evsc.exe",  # RTL override: shows as "relatório exe.csv"
    "a\uff0f..\uff0f..\uff0fb.csv",  # fullwidth solidus
    "nul\x00.csv",
    "x" * 600 + ".csv",
]


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    """The form as a hostile client writes it: the file name's bytes as they are."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + name.encode("utf-8", "surrogateescape")
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
    )
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def assert_display_safe(file_name: str) -> None:
    assert "/" not in file_name and "\\" not in file_name, file_name
    assert not any(unicodedata.category(c).startswith("C") for c in file_name), repr(file_name)
    assert file_name not in ("", ".", "..") and len(file_name) <= 255, file_name


async def test_file_names_never_steer_object_keys_and_are_sanitised_for_display(
    services: Services, two_accounts_ready: tuple[Resources, TestAccount]
) -> None:
    _, account = two_accounts_ready
    ids = await seed_contacts(account, 2)
    content = journey.write_ptbr_csv([["ID", "Nome"], *([str(i), f"Nome {i}"] for i in ids)])
    import_ids = []
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        for name in HOSTILE_NAMES:
            body, content_type = multipart(name, content)
            response = await http.post(
                f"{services.importer.url}/v1/imports", content=body, headers={"Content-Type": content_type}
            )
            assert response.status_code in (201, 400, 422), (name, response.status_code, response.text)
            if response.status_code == 400:
                continue  # a malformed form is refused before anything is stored
            import_id = response.json()["import_id"]
            import_ids.append(import_id)
            view = await journey.get_import(services, account, import_id)
            assert_display_safe(view["file_name"])
            assert "\u202e" not in response.text
    assert len(import_ids) >= len(HOSTILE_NAMES) - 2, "most hostile names are accepted as data"
    keys = object_keys(f"imports/{account.account_id}/")
    for key in keys:
        assert re.fullmatch(rf"imports/{account.account_id}/{UUID_RE}/upload", key), key
    assert {f"imports/{account.account_id}/{i}/upload" for i in import_ids} <= set(keys)
    for fragment in ("passwd", "etc", "..", "windows", "\uff0f", "\u202e"):
        assert not any(fragment in k for k in keys), fragment

    # The report's download name comes from the sanitised name too.
    rtl_import = import_ids[HOSTILE_NAMES.index("relatório\u202evsc.exe")]
    await journey.confirm(services, account, rtl_import, {"fields": ["name"]})
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        report = await http.get(f"{services.importer.url}/v1/imports/{rtl_import}/report")
    assert report.status_code == 200, report.text
    disposition = unquote(report.headers["content-disposition"])
    assert "\u202e" not in disposition and "/" not in disposition.split("filename", 1)[1], disposition


async def test_a_file_name_that_breaks_the_part_header_is_a_clear_400(
    services: Services, two_accounts_ready: tuple[Resources, TestAccount]
) -> None:
    _, account = two_accounts_ready
    body, content_type = multipart('line\r\nbreak".csv', b"ID;Nome\r\n;Nova\r\n")
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        response = await http.post(
            f"{services.importer.url}/v1/imports", content=body, headers={"Content-Type": content_type}
        )
    assert response.status_code == 400 and response.json()["code"] == "malformed_upload", response.text


# --- pre-signed URLs ----------------------------------------------------------------------


def presigned_parts(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return unquote(parts.path), {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.fixture
def short_lived_export(services: Services) -> Iterator[ServiceProcess]:
    """An export instance whose pre-signed URLs live 2 s (same database and group)."""
    port = free_port()
    env = {**services.export.env, "EXPORT_HTTP_PORT": str(port), "EXPORT_DOWNLOAD_URL_TTL_S": "2"}
    proc = ServiceProcess("export", port, env, services.export.log_path.with_name("test-export-short-ttl.log"))
    try:
        yield proc.start()
    finally:
        proc.stop()


async def test_presigned_urls_name_only_the_object_and_expire(
    services: Services, two_accounts_ready: tuple[Resources, TestAccount], short_lived_export: ServiceProcess
) -> None:
    resources, _ = two_accounts_ready
    account = resources.account
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        view = (await http.get(f"{services.export.url}/v1/exports/{resources.export_id}")).json()
        default = await http.get(f"{services.export.url}/v1/exports/{resources.export_id}/download")
        short = await http.get(f"{short_lived_export.url}/v1/exports/{resources.export_id}/download")
    assert default.status_code == short.status_code == 307
    for url in (view["download_url"], default.headers["location"], short.headers["location"]):
        path, query = presigned_parts(url)
        assert re.fullmatch(rf"/[^/]+/exports/{account.account_id}/{resources.export_id}/contatos-[0-9-]+\.csv", path)
        for leak in resources.secrets():
            assert leak not in unquote(url)
        assert "X-Amz-Signature" in query and "secret" not in unquote(url).lower()
    assert presigned_parts(default.headers["location"])[1]["X-Amz-Expires"] == str(24 * 3600)
    assert presigned_parts(short.headers["location"])[1]["X-Amz-Expires"] == "2"

    async with httpx.AsyncClient(timeout=30) as browser:
        assert (await browser.get(short.headers["location"])).status_code == 200
        await asyncio.sleep(3.5)
        expired = await browser.get(short.headers["location"])
        assert expired.status_code == 403, (expired.status_code, expired.text[:300])
        assert "Segredo" not in expired.text
        # Tampering with the expiry breaks the signature.
        tampered = short.headers["location"].replace("X-Amz-Expires=2", "X-Amz-Expires=86400")
        assert (await browser.get(tampered)).status_code == 403
        # Without the signature, the bucket is not readable.
        path, _ = presigned_parts(default.headers["location"])
        parts = urlsplit(default.headers["location"])
        assert (await browser.get(f"{parts.scheme}://{parts.netloc}{path}")).status_code == 403
        bucket = path.split("/")[1]
        listing = await browser.get(f"{parts.scheme}://{parts.netloc}/{bucket}?list-type=2")
        assert listing.status_code == 403, listing.text[:300]
