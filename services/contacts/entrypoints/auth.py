"""Who is calling: a user's API token (public routes) or a service (internal routes)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.contacts.adapters import accounts_store
from services.contacts.deps import ContactsDeps
from shared.auth import Caller

_user_bearer = HTTPBearer(auto_error=False, scheme_name="ApiToken", description="An API token of the account.")
_service_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="InternalToken",
    description="The deployment's internal service token (export and importer services).",
)


def deps_of(request: Request) -> ContactsDeps:
    deps: ContactsDeps = request.app.state.deps
    return deps


Deps = Annotated[ContactsDeps, Depends(deps_of)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


async def current_caller(
    deps: Deps,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_user_bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials.strip():
        raise _unauthorized("missing bearer token")
    async with deps.pool.acquire() as conn:
        found = await accounts_store.introspect_token(conn, credentials.credentials.strip())
    if found is None:
        raise _unauthorized("invalid or revoked token")
    return Caller(found.account_id, found.token_id, found.user_id)


async def internal_service(
    deps: Deps,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_service_bearer)],
) -> None:
    expected = deps.settings.internal_token.get_secret_value().encode()
    given = (credentials.credentials if credentials else "").encode()
    if not secrets.compare_digest(given, expected):
        raise _unauthorized("internal routes need the internal service token")


CurrentCaller = Annotated[Caller, Depends(current_caller)]
