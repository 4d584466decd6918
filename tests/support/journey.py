"""The user's journey through the public HTTP APIs, step by step, for e2e tests."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from typing import Any

import httpx

from shared import topics
from tests.conftest import Services
from tests.support.accounts import TestAccount
from tests.support.events import EventWatcher


async def export_file(services: Services, account: TestAccount, body: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Requests an export, waits for its ready event and downloads the file as a browser
    would (the pre-signed URL, no credentials)."""
    outcomes = (topics.EXPORT_READY, topics.EXPORT_FAILED)
    async with EventWatcher(outcomes) as watcher, httpx.AsyncClient(headers=account.headers, timeout=60) as http:
        response = await http.post(f"{services.export.url}/v1/exports", json=body)
        assert response.status_code == 202, response.text
        event = await watcher.wait_for_any(outcomes, response.json()["export_id"], timeout_s=120)
        assert event.topic == topics.EXPORT_READY, event.body
    async with httpx.AsyncClient(timeout=60) as plain:
        download = await plain.get(event.data["download_url"])
    assert download.status_code == 200
    return event.data, download.content


def read_ptbr_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def write_ptbr_csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


async def prepare(services: Services, account: TestAccount, name: str, content: bytes) -> httpx.Response:
    async with httpx.AsyncClient(headers=account.headers, timeout=120) as http:
        return await http.post(f"{services.importer.url}/v1/imports", files={"file": (name, content)})


async def get_import(services: Services, account: TestAccount, import_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        response = await http.get(f"{services.importer.url}/v1/imports/{import_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


async def wait_state(
    services: Services, account: TestAccount, import_id: str, states: tuple[str, ...], timeout_s: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        view = await get_import(services, account, import_id)
        if view["state"] in states:
            return view
        if time.monotonic() > deadline:
            raise TimeoutError(f"import {import_id} is {view['state']}, not one of {states}")
        await asyncio.sleep(0.2)


async def confirm(
    services: Services, account: TestAccount, import_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        response = await http.post(f"{services.importer.url}/v1/imports/{import_id}/confirm", json=body)
        assert response.status_code == 202, response.text
    return await wait_state(services, account, import_id, ("validated", "failed"))


async def feedback(services: Services, account: TestAccount, import_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            response = await http.get(f"{services.importer.url}/v1/imports/{import_id}/feedback", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return items


async def start_and_finish(services: Services, account: TestAccount, import_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        response = await http.post(f"{services.importer.url}/v1/imports/{import_id}/start")
        assert response.status_code == 202, response.text
    return await wait_state(services, account, import_id, ("completed", "completed_with_errors", "failed"))


async def contact(services: Services, account: TestAccount, contact_id: int) -> dict[str, Any]:
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        response = await http.get(f"{services.contacts.url}/v1/contacts/{contact_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


async def all_contacts(services: Services, account: TestAccount) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        while True:
            params: dict[str, Any] = {"limit": 200}
            if after:
                params["after_id"] = after
            page = (await http.get(f"{services.contacts.url}/v1/contacts", params=params)).json()
            found.extend(page["items"])
            after = page["next_after_id"]
            if after is None:
                return found
