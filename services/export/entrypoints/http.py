"""HTTP routes of the export service (the Exports page)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/exports", tags=["exports"])
