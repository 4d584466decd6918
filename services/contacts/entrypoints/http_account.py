"""Public routes of what belongs to the account: custom fields, users (owners), stages."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from services.contacts.adapters import accounts_store
from services.contacts.domain import custom_field_rules
from services.contacts.entrypoints.auth import CurrentCaller, Deps
from services.contacts.entrypoints.errors import LocatedFieldError
from shared.bounds import StorableText
from shared.contacts_api import CustomFieldDefinition, LifecycleStage, Owner

router = APIRouter(prefix="/v1")


class UserInput(BaseModel):
    name: StorableText = Field(min_length=1, examples=["João Conceição"])
    email: StorableText = Field(pattern=r"^[^@\s]+@[^@\s]+$", examples=["joao@exemplo.com.br"])


@router.get("/custom-fields", response_model=list[CustomFieldDefinition], tags=["custom fields"])
async def list_custom_fields(caller: CurrentCaller, deps: Deps) -> list[CustomFieldDefinition]:
    """The account's custom fields ("Campos personalizados"), in the order sheets show them."""
    async with deps.pool.acquire() as conn:
        fields = await accounts_store.list_custom_fields(conn, caller.account_id)
    return [accounts_store.custom_field_model(f) for f in fields]


@router.post(
    "/custom-fields",
    response_model=CustomFieldDefinition,
    status_code=status.HTTP_201_CREATED,
    tags=["custom fields"],
    responses={409: {"description": "The account already has a field with this key."}},
)
async def create_custom_field(body: CustomFieldDefinition, caller: CurrentCaller, deps: Deps) -> CustomFieldDefinition:
    """A new custom field. Its key must not be a standard field's; select options hold no
    comma (several options share one spreadsheet cell)."""
    definition = custom_field_rules.CustomFieldDefinition(
        body.key, body.label, body.type, tuple(body.options), body.required
    )
    try:
        custom_field_rules.check_definition(definition)
    except custom_field_rules.FieldValueError as error:
        raise LocatedFieldError(["body", error.field], error) from None
    async with deps.pool.acquire() as conn:
        await accounts_store.create_custom_field(conn, caller.account_id, definition)
    return accounts_store.custom_field_model(definition)


@router.get("/users", response_model=list[Owner], tags=["users"])
async def list_users(caller: CurrentCaller, deps: Deps) -> list[Owner]:
    """The account's users: who can own (be "Responsável" for) a contact."""
    async with deps.pool.acquire() as conn:
        return await accounts_store.list_users(conn, caller.account_id)


@router.post(
    "/users",
    response_model=Owner,
    status_code=status.HTTP_201_CREATED,
    tags=["users"],
    responses={409: {"description": "The account already has a user with this email."}},
)
async def create_user(body: UserInput, caller: CurrentCaller, deps: Deps) -> Owner:
    async with deps.pool.acquire() as conn:
        return await accounts_store.add_user(conn, caller.account_id, body.name, body.email)


@router.get("/lifecycle-stages", response_model=list[LifecycleStage], tags=["lifecycle stages"])
async def list_lifecycle_stages(caller: CurrentCaller, deps: Deps) -> list[LifecycleStage]:
    """The account's stages ("Sessão / Ciclo de vida"), in funnel order."""
    async with deps.pool.acquire() as conn:
        return await accounts_store.list_stages(conn, caller.account_id)
