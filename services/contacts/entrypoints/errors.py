"""Domain errors as HTTP answers: a bad value is a 422 that names its field, in the
shape FastAPI uses for its own validation errors, so clients read both the same way."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from services.contacts.adapters.accounts_store import DuplicateError, UnknownAccountError
from services.contacts.domain.custom_field_rules import FieldValueError
from services.contacts.service_layer.bulk_apply import IdempotencyKeyReusedError


class LocatedFieldError(Exception):
    """A FieldValueError with where the field is in the request (`loc`)."""

    def __init__(self, loc: list[str | int], error: FieldValueError) -> None:
        super().__init__(str(error))
        self.loc = loc
        self.error = error


def unprocessable(loc: list[str | int], message: str) -> JSONResponse:
    detail: list[dict[str, Any]] = [{"type": "value_error", "loc": loc, "msg": message}]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UnknownAccountError)
    async def unknown_account(_: Request, exc: UnknownAccountError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(LocatedFieldError)
    async def located_field(_: Request, exc: LocatedFieldError) -> JSONResponse:
        return unprocessable(exc.loc, str(exc.error))

    @app.exception_handler(FieldValueError)
    async def field_value(_: Request, exc: FieldValueError) -> JSONResponse:
        return unprocessable(["body", exc.field], str(exc))

    @app.exception_handler(DuplicateError)
    async def duplicate(_: Request, exc: DuplicateError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)

    @app.exception_handler(IdempotencyKeyReusedError)
    async def key_reused(_: Request, exc: IdempotencyKeyReusedError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)
