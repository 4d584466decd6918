"""HTTP routes of the importer service (the Imports page)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/imports", tags=["imports"])
