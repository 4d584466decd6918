"""Lookups and bulk applies (repeatable requests of background jobs) are tried again
while the contacts service is unreachable or failing, within `retry_s`; nothing else is."""

from __future__ import annotations

import httpx
import pytest

from shared import contacts_client
from shared.contacts_api import BulkApplyRequest, ContactLookupRequest
from shared.contacts_client import ContactsApiError, ContactsClient
from shared.settings import ContactsApiSettings

LOOKUP = b'{"contacts": [], "email_owners": {}, "cells": {}}'
APPLIED = b'{"idempotency_key": "i:0", "replayed": true, "outcomes": []}'


def _client(answers: list[int | Exception], body: bytes, retry_s: float = 60.0) -> tuple[ContactsClient, list[str]]:
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        answer = answers.pop(0) if answers else 200
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, content=body if answer == 200 else b'{"detail": "no"}')

    settings = ContactsApiSettings(base_url="http://contacts", retry_s=retry_s)
    return ContactsClient(settings, transport=httpx.MockTransport(handle)), calls


@pytest.fixture(autouse=True)
def _short_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contacts_client, "RETRY_FIRST_PAUSE_S", 0.001)
    monkeypatch.setattr(contacts_client, "RETRY_MAX_PAUSE_S", 0.002)


async def test_a_lookup_outlasts_a_restart_of_the_contacts_service() -> None:
    client, calls = _client([httpx.ConnectError("refused"), 503, 502, 429], LOOKUP)
    lookup = await client.lookup(1, ContactLookupRequest(ids=[1]))
    assert lookup.contacts == [] and len(calls) == 5


async def test_a_bulk_apply_is_repeated_under_its_key_until_it_answers() -> None:
    client, calls = _client([500, httpx.ReadError("cut")], APPLIED)
    result = await client.bulk_apply(1, BulkApplyRequest(idempotency_key="i:0", import_id="i", fields=[], rows=[]))
    assert result.replayed and len(calls) == 3


@pytest.mark.parametrize("status", [400, 404, 409, 422])
async def test_an_answer_that_is_no_outage_is_not_repeated(status: int) -> None:
    client, calls = _client([status], LOOKUP)
    with pytest.raises(ContactsApiError) as refused:
        await client.lookup(1, ContactLookupRequest(ids=[1]))
    assert refused.value.status == status and len(calls) == 1


async def test_the_outage_outlasting_retry_s_fails_the_request() -> None:
    client, calls = _client([503] * 1000, LOOKUP, retry_s=0.05)
    with pytest.raises(ContactsApiError) as failed:
        await client.lookup(1, ContactLookupRequest(ids=[1]))
    assert failed.value.status == 503 and 1 < len(calls) < 1000
    client, calls = _client([503], LOOKUP, retry_s=0)
    with pytest.raises(ContactsApiError):
        await client.lookup(1, ContactLookupRequest(ids=[1]))
    assert len(calls) == 1


async def test_other_requests_are_not_repeated() -> None:
    client, calls = _client([503], b'{"count": 3}')
    with pytest.raises(ContactsApiError):
        await client.account_context(1)
    assert len(calls) == 1
