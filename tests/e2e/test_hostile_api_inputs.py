"""Every public route of the three services, called with values a client may send by
mistake or on purpose (integers past bigint, NUL, odd dates and cursors, malformed JSON),
answers 4xx, never 5xx. The first sweep, by hand against `make run`, found 500s in the
contacts list, read and edit routes and in the importer's feedback route: PostgreSQL
could not take the value, and nothing checked it before."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Services
from tests.e2e.test_spreadsheet_programs import export_via_api
from tests.support import journey
from tests.support.accounts import TestAccount, add_contacts, create_account, sample_contacts

pytestmark = pytest.mark.timeout(300)

ODD_INTEGERS = ["0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999999", "1.5", "abc", ""]
ODD_TEXTS = ["", " ", "\x00", "a\x00b", "%", "_", "\\", "' OR 1=1 --", "😀", "é" * 2000]
ODD_INSTANTS = [
    "0001-01-01",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "0000-01-01",
    "10000-01-01",
    "2024-02-30",
    "2024-01-01T25:00",
    "2024-01-01T00:00:00+24:00",
    "x",
]
ODD_JSON_VALUES: list[Any] = [
    None, "", 0, -1, 1.5, 1e308, True, [], {}, [1], "\x00", "a\x00", ["\x00"], 2**63, 2**70, "1e999999", "-0",
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2024-02-30",
]  # fmt: skip
ODD_BODIES = [
    "",
    "null",
    "[]",
    "{}",
    "{",
    '{"name": null}',
    '{"name": "\\u0000"}',
    '{"name": "x", "owner_id": 9223372036854775808}',
    '{"name": "x", "tags": [1, 2]}',
    '{"name": "x", "custom_fields": {"nope": 1}}',
]


class Sweep:
    def __init__(self, account: TestAccount) -> None:
        self.headers = account.headers
        self.failures: list[str] = []
        self.calls = 0

    async def call(self, method: str, url: str, **kwargs: Any) -> None:
        self.calls += 1
        async with httpx.AsyncClient(headers=self.headers, timeout=60) as http:
            response = await http.request(method, url, **kwargs)
        if response.status_code >= 500:
            shown = {k: (v if len(repr(v)) < 200 else f"{repr(v)[:200]}…") for k, v in kwargs.items()}
            self.failures.append(f"{method} {url} {shown} -> {response.status_code} {response.text[:200]}")


@pytest.fixture(scope="module")
async def sweep_account(services: Services) -> TestAccount:
    account = await create_account(services.contacts.url)
    await add_contacts(services.contacts.url, account, sample_contacts(account, 3))
    return account


async def test_no_public_route_answers_5xx_to_odd_values(services: Services, sweep_account: TestAccount) -> None:
    contacts, exports, imports = services.contacts.url, services.export.url, services.importer.url
    sweep = Sweep(sweep_account)
    prepared = await journey.prepare(
        services, sweep_account, "sweep.csv", journey.write_ptbr_csv([["ID", "Nome"], ["", "Ana"]])
    )
    assert prepared.status_code == 201, prepared.text
    import_id = prepared.json()["import_id"]
    await journey.confirm(services, sweep_account, import_id, {"fields": ["name"]})
    export, _ = await export_via_api(services, sweep_account, {"selection": {"all": True}, "format": "csv"})
    export_id = export["export_id"]
    async with httpx.AsyncClient(headers=sweep_account.headers, timeout=30) as http:
        fields = (await http.get(f"{contacts}/v1/custom-fields")).json()

    for value in ODD_INTEGERS:
        for name in ("limit", "after_id", "owner_ids"):
            await sweep.call("GET", f"{contacts}/v1/contacts", params={name: value})
        await sweep.call("GET", f"{contacts}/v1/contacts/{value}")
        await sweep.call("PATCH", f"{contacts}/v1/contacts/{value}", json={"name": "x"})
        await sweep.call("GET", f"{exports}/v1/exports", params={"limit": value})
        await sweep.call("GET", f"{imports}/v1/imports", params={"limit": value})
        for name in ("row", "limit"):
            await sweep.call("GET", f"{imports}/v1/imports/{import_id}/feedback", params={name: value})
        await sweep.call("GET", f"{imports}/v1/imports/{import_id}/feedback", params={"cursor": f"{value}:{value}"})
    for text in ODD_TEXTS:
        for name in ("q", "tags", "lifecycle_stages", "legal_entity", "owner_ids"):
            await sweep.call("GET", f"{contacts}/v1/contacts", params={name: text})
        for field in fields:
            await sweep.call("GET", f"{contacts}/v1/contacts", params={f"custom.{field['key']}": text})
        for url in (f"{exports}/v1/exports", f"{imports}/v1/imports", f"{imports}/v1/imports/{import_id}/feedback"):
            await sweep.call("GET", url, params={"cursor": text})
        for name in ("code", "severity"):
            await sweep.call("GET", f"{imports}/v1/imports/{import_id}/feedback", params={name: text})
    for language in ("*", "xx-YY", "pt-BR;q=abc", ",,,", "en;q=2", "pt-BR" * 500):
        for url in (f"{exports}/v1/exports/{export_id}", f"{imports}/v1/imports/{import_id}/feedback"):
            await sweep.call("GET", url, headers={"Accept-Language": language})
    for instant in ODD_INSTANTS:
        for name in ("created_from", "created_to", "updated_from", "updated_to"):
            await sweep.call("GET", f"{contacts}/v1/contacts", params={name: instant})
        for url in (f"{exports}/v1/exports", f"{imports}/v1/imports"):
            await sweep.call("GET", url, params={"cursor": f"{instant}|{import_id}"})
    for field in fields:
        for value in ODD_JSON_VALUES:
            query = value if isinstance(value, str) else json.dumps(value)
            await sweep.call("GET", f"{contacts}/v1/contacts", params={f"custom.{field['key']}": query})
            await sweep.call(
                "POST", f"{contacts}/v1/contacts", json={"name": "x", "custom_fields": {field["key"]: value}}
            )
    for body in ODD_BODIES:
        for url in (f"{contacts}/v1/contacts", f"{contacts}/v1/custom-fields", f"{contacts}/v1/users"):
            await sweep.call("POST", url, content=body, headers={"content-type": "application/json"})
        await sweep.call("POST", f"{exports}/v1/exports", content=body, headers={"content-type": "application/json"})
        await sweep.call(
            "POST",
            f"{imports}/v1/imports/{import_id}/confirm",
            content=body,
            headers={"content-type": "application/json"},
        )
    for selection in (
        {"ids": [2**63]},
        {"ids": [0, -1]},
        {"all": True, "exclude_ids": [2**63]},
        {"filter": {"q": "\x00"}},
        {"filter": {"created_from": "0001-01-01T00:00:00+05:00"}},
        {"filter": {"custom": {"nope": 1}}},
        {"filter": {"custom": {"nope": {"a\x00": ["b\x00"]}}}},
    ):
        for body in (
            {"selection": selection, "format": "csv"},
            {"selection": selection, "format": "xlsx", "locale": "fr"},
        ):
            await sweep.call("POST", f"{exports}/v1/exports", json=body)
    for fields in (["id", "na\x00me"], ["nope"], [], ["id", "id"], [1]):
        await sweep.call("POST", f"{exports}/v1/exports", json={"selection": {"all": True}, "fields": fields})
    for confirm in (
        {"fields": ["name"], "tag": "a\x00b"},
        {"fields": ["name\x00"]},
        {"fields": {"0": "name\x00"}},
        {"fields": {"99999999999999999999": "name"}},
        {"fields": {"-1": "name"}},
    ):
        await sweep.call("POST", f"{imports}/v1/imports/{import_id}/confirm", json=confirm)

    assert sweep.calls > 500
    assert not sweep.failures, "\n".join(sweep.failures)
