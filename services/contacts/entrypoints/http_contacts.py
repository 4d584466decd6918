"""Public contact routes: list with the shared filter, create, read, edit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.contacts.adapters import contact_reads
from services.contacts.domain.contact_state import STANDARD_WRITABLE_KEYS
from services.contacts.domain.custom_field_rules import FieldValueError
from services.contacts.entrypoints.auth import CurrentCaller, Deps
from services.contacts.entrypoints.errors import LocatedFieldError
from services.contacts.service_layer import contact_edits, selection_reads
from shared.bounds import BIGINT_MAX
from shared.contacts_api import ContactRecord
from shared.selection import ContactFilter

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])

CUSTOM_QUERY_PREFIX = "custom."
ContactIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX)]


class ContactInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Nome; required.", examples=["Conceição Araújo"])
    emails: list[str] = Field(default_factory=list, examples=[["conceicao@exemplo.com.br"]])
    phones: list[str] = Field(default_factory=list, examples=[["+5511987654321"]])
    company: str | None = None
    job_title: str | None = None
    lifecycle_stage: str | None = Field(None, description="A stage key of the account.", examples=["lead"])
    owner_id: int | None = Field(None, description="A user (Responsável) of the account.")
    legal_entity: bool | None = Field(None, description="Jurídico: company (true) or person (false).")
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(
        default_factory=dict, description="Custom field key → canonical value.", examples=[{"segmento": "Varejo"}]
    )


class ContactPatch(BaseModel):
    """Only the given fields change; null clears. `custom_fields` merges: a key given
    sets (null unsets) that field, other custom fields stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    emails: list[str] | None = None
    phones: list[str] | None = None
    company: str | None = None
    job_title: str | None = None
    lifecycle_stage: str | None = None
    owner_id: int | None = None
    legal_entity: bool | None = None
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None


class ContactPage(BaseModel):
    items: list[ContactRecord]
    next_after_id: int | None = Field(description="Pass as `after_id` for the next page; null on the last page.")


def _values(given: Mapping[str, Any]) -> dict[str, Any]:
    """Public field names → the field keys shared with the importer (`owner_id` → `owner`)."""
    values: dict[str, Any] = {}
    for name, value in given.items():
        if name == "custom_fields":
            for key, custom_value in (value or {}).items():
                if key in STANDARD_WRITABLE_KEYS:
                    raise LocatedFieldError(
                        ["body", "custom_fields", key], FieldValueError(key, "unknown custom field")
                    )
                values[key] = custom_value
        else:
            values["owner" if name == "owner_id" else name] = value
    return values


def _located(error: FieldValueError) -> LocatedFieldError:
    if error.field in STANDARD_WRITABLE_KEYS:
        name = "owner_id" if error.field == "owner" else error.field
        return LocatedFieldError(["body", name], error)
    return LocatedFieldError(["body", "custom_fields", error.field], error)


def _split(values: list[str] | None) -> list[str] | None:
    # `tags=a&tags=b` and `tags=a,b` both work; names never hold commas.
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@router.get("", response_model=ContactPage, summary="A page of the account's contacts that match the filter")
async def list_contacts(
    request: Request,
    caller: CurrentCaller,
    deps: Deps,
    q: str | None = None,
    owner_ids: Annotated[list[str] | None, Query(description="Owner ids (repeat or comma-separate).")] = None,
    lifecycle_stages: Annotated[list[str] | None, Query()] = None,
    tags: Annotated[list[str] | None, Query(description="Has any of these tags.")] = None,
    legal_entity: bool | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    updated_from: datetime | None = None,
    updated_to: datetime | None = None,
    after_id: Annotated[
        int | None, Query(ge=0, le=BIGINT_MAX, description="Keyset cursor: ids greater than this.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ContactPage:
    """Filters as in the selection of the export (`custom.<key>=value` for custom fields),
    in id order. Rows created while paging never shift a page: no gaps, no repeats."""
    custom = {
        name[len(CUSTOM_QUERY_PREFIX) :]: value
        for name, value in request.query_params.items()
        if name.startswith(CUSTOM_QUERY_PREFIX)
    }
    try:
        contact_filter = ContactFilter(
            q=q,
            owner_ids=_split(owner_ids),  # type: ignore[arg-type]  # pydantic parses ints
            lifecycle_stages=_split(lifecycle_stages),
            tags=_split(tags),
            legal_entity=legal_entity,
            created_from=created_from,
            created_to=created_to,
            updated_from=updated_from,
            updated_to=updated_to,
            custom=custom or None,
        )
    except ValidationError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["query", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in error.errors()],
        ) from None
    try:
        items = await selection_reads.list_page(deps.pool, caller.account_id, contact_filter, after_id, limit)
    except FieldValueError as error:
        raise LocatedFieldError(["query", error.field], error) from None
    next_after_id = items[-1].id if len(items) == limit else None
    return ContactPage(items=items, next_after_id=next_after_id)


@router.post("", response_model=ContactRecord, status_code=status.HTTP_201_CREATED, summary="Create a contact")
async def create_contact(body: ContactInput, caller: CurrentCaller, deps: Deps) -> ContactRecord:
    try:
        return await contact_edits.create_contact(
            deps.pool, caller.account_id, _values(body.model_dump()), caller.requested_by
        )
    except FieldValueError as error:
        raise _located(error) from None


@router.get("/{contact_id}", response_model=ContactRecord, summary="One contact of the account")
async def get_contact(contact_id: ContactIdPath, caller: CurrentCaller, deps: Deps) -> ContactRecord:
    async with deps.pool.acquire() as conn:
        record = await contact_reads.get_contact(conn, caller.account_id, contact_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no contact {contact_id}")
    return record


@router.patch(
    "/{contact_id}",
    response_model=ContactRecord,
    summary="Change some fields of a contact (logged in its change history; bumps its version)",
)
async def patch_contact(
    contact_id: ContactIdPath, body: ContactPatch, caller: CurrentCaller, deps: Deps
) -> ContactRecord:
    try:
        record = await contact_edits.update_contact(
            deps.pool,
            caller.account_id,
            contact_id,
            _values(body.model_dump(exclude_unset=True)),
            caller.requested_by,
        )
    except FieldValueError as error:
        raise _located(error) from None
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no contact {contact_id}")
    return record
