"""HTTP routes of the contacts service, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from services.contacts.entrypoints import http_account, http_contacts, http_internal
from services.contacts.entrypoints.errors import install_error_handlers

router = APIRouter()
router.include_router(http_contacts.router)
router.include_router(http_account.router)
router.include_router(http_internal.router)

__all__ = ["install_error_handlers", "router"]
