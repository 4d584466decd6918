"""What the export and importer HTTP APIs share: their dependencies, the bearer-token
caller, and the cursor of their newest-first job listings (the Exports and Imports pages)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from shared.auth import Caller


def service_deps(request: Request) -> Any:
    return request.app.state.deps


async def authenticated_caller(request: Request) -> Caller:
    caller: Caller = await request.app.state.deps.auth.authenticate(request)
    return caller


CallerDep = Annotated[Caller, Depends(authenticated_caller)]
DepsDep = Annotated[Any, Depends(service_deps)]


def newest_first_cursor(moment: datetime, job_id: uuid.UUID) -> str:
    """Where the next (older) page of a newest-first listing starts."""
    return f"{moment.isoformat()}|{job_id}"


def parse_newest_first_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        when, _, job_id = cursor.partition("|")
        moment = datetime.fromisoformat(when)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        # asyncpg sends a timestamptz in UTC, which overflows within a day of years 1
        # and 9999 (0001-01-01T00:00+05:00): the caller's mistake, not a 500.
        moment.astimezone(UTC)
        return moment, uuid.UUID(job_id)
    except (ValueError, OverflowError):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid cursor") from None
