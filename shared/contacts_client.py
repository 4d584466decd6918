"""The client of the contacts service's internal API (see shared/contacts_api.py), used
by the export and importer services."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx

from shared.contacts_api import (
    INTERNAL_PREFIX,
    AccountContext,
    BulkApplyRequest,
    BulkApplyResult,
    ContactLookup,
    ContactLookupRequest,
    ContactRecord,
    SelectionCount,
    SelectionCsvRequest,
    SelectionRequest,
    StreamedContact,
    TokenIntrospection,
)
from shared.selection import Selection
from shared.settings import ContactsApiSettings

log = logging.getLogger(__name__)

# Pauses between tries of a repeatable request: 0.5, 1, 2, 4, 5, 5, ... s.
RETRY_FIRST_PAUSE_S = 0.5
RETRY_MAX_PAUSE_S = 5.0


class ContactsApiError(Exception):
    """The contacts service answered with an error (`status`), or could not be reached
    (`status` None): the caller decides whether to retry."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


class UnknownAccount(ContactsApiError):
    pass


class UnknownFields(ContactsApiError):
    """The account has no such fields (or they have another type) as a CSV plan named."""

    def __init__(self, keys: list[str], message: str) -> None:
        super().__init__(422, message)
        self.keys = keys


class ContactsClient:
    def __init__(self, settings: ContactsApiSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._retry_s = settings.retry_s
        self._http = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/") + INTERNAL_PREFIX,
            headers={"Authorization": f"Bearer {settings.internal_token.get_secret_value()}"},
            timeout=httpx.Timeout(settings.timeout_s, connect=5.0),
            transport=transport,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        return json.loads(await self._request_bytes(method, path, body))

    async def _request_bytes(self, method: str, path: str, body: Any = None) -> bytes:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ContactsApiError(None, f"contacts service unreachable: {exc!r}") from exc
        _raise_for_status(response)
        return response.content

    async def _repeatable_request(self, method: str, path: str, body: Any) -> bytes:
        """`_request_bytes` of a request that is safe to repeat, tried again with growing
        pauses for `retry_s` while the service is unreachable or answers as overloaded
        or failing: a restart of the contacts service (seconds) must not cost a job one
        of its few attempts."""
        deadline = time.monotonic() + self._retry_s
        pause = RETRY_FIRST_PAUSE_S
        while True:
            try:
                return await self._request_bytes(method, path, body)
            except ContactsApiError as error:
                if not _is_transient(error) or time.monotonic() + pause > deadline:
                    raise
                log.warning("contacts service: %s; trying %s %s again in %.1f s", error, method, path, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_PAUSE_S)

    async def is_ready(self) -> bool:
        try:
            response = await self._http.get("/ping")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def introspect_token(self, token: str) -> TokenIntrospection | None:
        try:
            response = await self._http.post("/tokens/introspect", json={"token": token})
        except httpx.HTTPError as exc:
            raise ContactsApiError(None, f"contacts service unreachable: {exc!r}") from exc
        if response.status_code == 401:
            return None
        _raise_for_status(response)
        return TokenIntrospection.model_validate(response.json())

    async def account_context(self, account_id: int) -> AccountContext:
        return AccountContext.model_validate(await self._request("GET", f"/accounts/{account_id}/context"))

    async def count_selection(self, account_id: int, selection: Selection) -> int:
        body = SelectionRequest(selection=selection).model_dump(mode="json", exclude_none=True)
        data = await self._request("POST", f"/accounts/{account_id}/selection/count", body)
        return SelectionCount.model_validate(data).count

    async def stream_selection(self, account_id: int, selection: Selection) -> AsyncIterator[ContactRecord]:
        """Every contact of the selection, in id order, read from one database snapshot."""
        async with contextlib.aclosing(self._selection_lines(account_id, selection)) as lines:
            async for line in lines:
                yield ContactRecord.model_validate_json(line)

    async def stream_selection_fast(self, account_id: int, selection: Selection) -> AsyncIterator[StreamedContact]:
        """As `stream_selection`, each contact parsed without validation (StreamedContact)
        for a reader of millions; a line that is no contact breaks the stream."""
        async with contextlib.aclosing(self._selection_lines(account_id, selection)) as lines:
            async for line in lines:
                try:
                    yield StreamedContact.from_json(line)
                except ValueError as error:
                    raise ContactsApiError(None, f"contacts service stream broke: {error}") from None

    async def _selection_lines(self, account_id: int, selection: Selection) -> AsyncGenerator[bytes, None]:
        body = SelectionRequest(selection=selection).model_dump(mode="json", exclude_none=True)
        try:
            async with self._http.stream(
                "POST", f"/accounts/{account_id}/selection/stream", json=body, timeout=httpx.Timeout(None, connect=5.0)
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    _raise_for_status(response)
                # Lines split from the raw bytes and parsed as bytes: no text decoding of
                # the whole stream first (the service sends large chunks).
                rest = b""
                async for chunk in response.aiter_bytes():
                    lines = (rest + chunk).split(b"\n")
                    rest = lines.pop()
                    for line in lines:
                        if line:
                            yield line
                if rest:
                    yield rest
        except httpx.HTTPError as exc:
            raise ContactsApiError(None, f"contacts service stream broke: {exc!r}") from exc

    async def stream_selection_csv(self, account_id: int, plan: SelectionCsvRequest) -> AsyncIterator[bytes]:
        """The CSV rows of the plan's selection as the contacts service sends them: raw
        chunks of PostgreSQL's COPY CSV output (no header, LF after each row; see the
        csv-rows route), in id order, from one snapshot. UnknownFields when the plan
        names fields the account does not have."""
        body = plan.model_dump(mode="json", exclude_none=True)
        try:
            async with self._http.stream(
                "POST",
                f"/accounts/{account_id}/selection/csv-rows",
                json=body,
                timeout=httpx.Timeout(None, connect=5.0),
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    _raise_for_unknown_columns(response, plan)
                    _raise_for_status(response)
                async for chunk in response.aiter_bytes():
                    yield chunk
        except httpx.HTTPError as exc:
            raise ContactsApiError(None, f"contacts service stream broke: {exc!r}") from exc

    async def lookup(self, account_id: int, request: ContactLookupRequest) -> ContactLookup:
        body = request.model_dump(mode="json")
        # Validated from the bytes: a lookup answer holds a thousand contacts.
        return ContactLookup.model_validate_json(
            await self._repeatable_request("POST", f"/accounts/{account_id}/contacts/lookup", body)
        )

    async def bulk_apply(self, account_id: int, request: BulkApplyRequest) -> BulkApplyResult:
        # Idempotent by its key: a repeat returns the first outcomes.
        data = await self._repeatable_request(
            "POST", f"/accounts/{account_id}/bulk-apply", request.model_dump(mode="json")
        )
        return BulkApplyResult.model_validate_json(data)


def _raise_for_unknown_columns(response: httpx.Response, plan: SelectionCsvRequest) -> None:
    if response.status_code != 422:
        return
    try:
        problems = response.json()["detail"]
        indexes = [p["loc"][2] for p in problems if p["loc"][:2] == ["body", "columns"]]
    except (ValueError, KeyError, TypeError, IndexError):
        return
    if indexes:
        keys = [plan.columns[i].key for i in indexes if isinstance(i, int) and 0 <= i < len(plan.columns)]
        raise UnknownFields(keys, "; ".join(str(p.get("msg")) for p in problems))


def _is_transient(error: ContactsApiError) -> bool:
    return error.status is None or error.status >= 500 or error.status in (408, 429)


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        detail = json.dumps(response.json().get("detail"), ensure_ascii=False)
    except (ValueError, AttributeError):
        detail = response.text[:500]
    if response.status_code == 404 and "account" in detail:
        raise UnknownAccount(404, detail)
    raise ContactsApiError(response.status_code, f"contacts service answered {response.status_code}: {detail}")
