"""Bearer-token authentication of the export and importer HTTP APIs: the token names
the account, as the contacts service (which owns tokens) says."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from shared.contacts_api import TokenIntrospection
from shared.contacts_client import ContactsApiError, ContactsClient

# A revoked token stops working within this many seconds on the export and importer
# services (the contacts service itself checks on every request).
TOKEN_CACHE_TTL_S = 30.0
_CACHE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Caller:
    account_id: int
    token_id: int
    user_id: int | None

    @property
    def requested_by(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"token:{self.token_id}"


class TokenAuthenticator:
    def __init__(self, contacts: ContactsClient) -> None:
        self._contacts = contacts
        self._cache: dict[str, tuple[float, TokenIntrospection | None]] = {}

    async def authenticate(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("missing bearer token")
        introspection = await self._introspect(token.strip())
        if introspection is None:
            raise _unauthorized("invalid or revoked token")
        return Caller(introspection.account_id, introspection.token_id, introspection.user_id)

    async def _introspect(self, token: str) -> TokenIntrospection | None:
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            result = await self._contacts.introspect_token(token)
        except ContactsApiError as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "authentication is unavailable, try again"
            ) from exc
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = (now + TOKEN_CACHE_TTL_S, result)
        return result


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})
