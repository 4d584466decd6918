"""Internal routes for the export and importer services (shared/contacts_api.py), behind
the deployment's internal service token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.responses import Response, StreamingResponse

from services.contacts.adapters import accounts_store, contact_reads
from services.contacts.domain.contact_filter import WhereClause
from services.contacts.domain.csv_rendition import CsvPlanError
from services.contacts.domain.custom_field_rules import FieldValueError
from services.contacts.entrypoints.auth import Deps, internal_service
from services.contacts.entrypoints.errors import LocatedFieldError
from services.contacts.service_layer import bulk_apply as bulk_apply_use_case
from services.contacts.service_layer import selection_reads
from shared.bounds import BIGINT_MAX
from shared.contacts_api import (
    INTERNAL_PREFIX,
    AccountContext,
    BulkApplyRequest,
    BulkApplyResult,
    ContactLookup,
    ContactLookupRequest,
    SelectionCount,
    SelectionCsvRequest,
    SelectionRequest,
    TokenIntrospection,
    TokenIntrospectionRequest,
)

router = APIRouter(prefix=INTERNAL_PREFIX, tags=["internal"], dependencies=[Depends(internal_service)])

_UNKNOWN_ACCOUNT = {404: {"description": 'No such account: `{"detail": "unknown account N"}`.'}}
NDJSON = "application/x-ndjson"
AccountIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
CSV_ROWS = "text/csv; charset=utf-8; header=absent"


@router.get("/ping", summary="The service answers and the caller's internal token is right")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    "/tokens/introspect",
    response_model=TokenIntrospection,
    responses={401: {"description": "Unknown or revoked token."}},
)
async def introspect_token(body: TokenIntrospectionRequest, deps: Deps) -> TokenIntrospection:
    """Which account (and user) a user's API token names."""
    async with deps.pool.acquire() as conn:
        found = await accounts_store.introspect_token(conn, body.token)
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or revoked token")
    return found


@router.get("/accounts/{account_id}/context", response_model=AccountContext, responses=_UNKNOWN_ACCOUNT)
async def account_context(account_id: AccountIdPath, deps: Deps) -> AccountContext:
    """Owners, stages, custom fields, locale and time zone: what a sheet needs."""
    async with deps.pool.acquire() as conn:
        return await accounts_store.account_context(conn, account_id)


async def _where(deps: Deps, account_id: int, body: SelectionRequest) -> WhereClause:
    async with deps.pool.acquire() as conn:
        try:
            return await selection_reads.where_for(conn, account_id, body.selection)
        except FieldValueError as error:
            raise LocatedFieldError(["body", "selection", "filter", error.field], error) from None


@router.post("/accounts/{account_id}/selection/count", response_model=SelectionCount, responses=_UNKNOWN_ACCOUNT)
async def count_selection(account_id: AccountIdPath, body: SelectionRequest, deps: Deps) -> SelectionCount:
    where = await _where(deps, account_id, body)
    async with deps.pool.acquire() as conn:
        return SelectionCount(count=await contact_reads.count(conn, where))


@router.post(
    "/accounts/{account_id}/selection/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One `ContactRecord` JSON a line, in id order, all read from one "
            "database snapshot. A stream that breaks off (no final chunk) is incomplete.",
            "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/ContactRecord"}}},
        },
        **_UNKNOWN_ACCOUNT,
    },
)
async def stream_selection(account_id: AccountIdPath, body: SelectionRequest, deps: Deps) -> StreamingResponse:
    where = await _where(deps, account_id, body)  # errors answer before the stream starts

    async def lines() -> AsyncIterator[bytes]:
        # One chunk per cursor batch (about 0.6 MB for 1,000 contacts): few, large writes.
        async for batch in selection_reads.stream_selection_json(deps.pool, where):
            batch.append("")
            yield "\n".join(batch).encode()

    return StreamingResponse(lines(), media_type=NDJSON)


@router.post(
    "/accounts/{account_id}/selection/csv-rows",
    summary="The CSV rows of a selection, formatted by PostgreSQL from the export's column plan",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The CSV rows of the selection, in id order, all read from one database "
            "snapshot, as PostgreSQL's `COPY ... TO STDOUT (FORMAT csv, DELIMITER ...)` writes them: "
            'no header; a cell that holds the delimiter, `"`, CR or LF is quoted, with `"` '
            "doubled (Python's csv.QUOTE_MINIMAL quotes the same cells the same way); an empty "
            "cell is empty; every row ends with LF, and a LF inside quotes belongs to its cell "
            "(a reader that wants CRLF rows turns only the LFs outside quotes into CRLF). Cell "
            "contents follow the request's plan exactly as the export's own CSV writer formats "
            "them. A stream that breaks off (no final chunk) is incomplete.",
            "content": {CSV_ROWS: {"schema": {"type": "string"}}},
        },
        **_UNKNOWN_ACCOUNT,
        422: {
            "description": "A column names a field the account does not have (or gives it "
            "another type), the time zone is unknown, or the selection's filter is invalid: "
            '`detail` lists each problem with its `loc` (e.g. `["body", "columns", 3, "key"]`).'
        },
    },
)
async def csv_rows(account_id: AccountIdPath, body: SelectionCsvRequest, deps: Deps) -> StreamingResponse:
    """The export decides what its CSV shows (columns, locale, time zone, owner and stage
    labels: `SelectionCsvRequest`); one SQL statement formats every selected contact by
    that plan, cell for cell as the export's Python CSV writer would, and COPY streams the
    rows. The export writes the BOM and the header itself and turns the row ends into
    CRLF. Formatting in PostgreSQL spares a million contacts a JSON round trip and ~25 µs
    of Python each (docs/benchmarks.md, "Export service")."""
    async with deps.pool.acquire() as conn:  # errors answer before the stream starts
        try:
            query = await selection_reads.csv_rows_for(conn, account_id, body)
        except FieldValueError as error:
            raise LocatedFieldError(["body", "selection", "filter", error.field], error) from None
        except CsvPlanError as error:
            raise _unrenderable(error, "body") from None
    return StreamingResponse(selection_reads.stream_csv_rows(deps.pool, query), media_type=CSV_ROWS)


@router.post("/accounts/{account_id}/contacts/lookup", response_model=ContactLookup, responses=_UNKNOWN_ACCOUNT)
async def lookup_contacts(account_id: AccountIdPath, body: ContactLookupRequest, deps: Deps) -> Response:
    """Current values of the given ids (those in the account) and who holds the emails;
    with `cells`, each found contact's cells as that rendition shows them (422 naming
    the columns the account cannot show)."""
    async with deps.pool.acquire() as conn:
        await accounts_store.account_row(conn, account_id)
        contacts = await contact_reads.get_contacts_json(conn, account_id, body.ids) if body.with_contacts else "[]"
        owners = await contact_reads.email_owners(conn, account_id, body.emails)
        cells = "{}"
        if body.cells is not None:
            try:
                cells = await selection_reads.shown_cells_json(conn, account_id, body.ids, body.cells)
            except CsvPlanError as error:
                raise _unrenderable(error, "body", "cells") from None
    # The JSON comes from PostgreSQL as it is (the importer asks for a thousand contacts
    # at a time, for every batch of a sheet); response_model above still documents it.
    content = f'{{"contacts":{contacts},"email_owners":{json.dumps(owners)},"cells":{cells}}}'
    return Response(content, media_type="application/json")


@router.post(
    "/accounts/{account_id}/bulk-apply",
    response_model=BulkApplyResult,
    responses={
        **_UNKNOWN_ACCOUNT,
        409: {"description": "The idempotency key was used before by a different batch."},
    },
)
async def bulk_apply(account_id: AccountIdPath, body: BulkApplyRequest, deps: Deps) -> BulkApplyResult:
    """One batch of ID-keyed updates and creates in one transaction. Only `fields` are
    written; each row gets an outcome; a repeated `idempotency_key` returns the first
    outcomes (`replayed: true`) and writes nothing. An `update` of an id that is not the
    account's fails with "contact not found"."""
    return await bulk_apply_use_case.bulk_apply(deps.pool, account_id, body)


def _unrenderable(error: CsvPlanError, *where: str) -> HTTPException:
    """A 422 naming each column of a rendition the account cannot show, located in the
    request's body at `where` (CsvPlanError locates them in a plan at the body's root)."""
    detail = [
        {"type": "value_error", "loc": [*where, *problem.loc[1:]], "msg": problem.message} for problem in error.problems
    ]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
