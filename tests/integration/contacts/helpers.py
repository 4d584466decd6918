"""Small builders shared by the contacts integration tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from shared.contacts_api import BulkApplyRequest, BulkApplyRow, RowAction


async def add_custom_field(http: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> None:
    response = await http.post("/v1/custom-fields", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def add_contact(http: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault("name", f"Contato {uuid.uuid4().hex[:6]}")
    response = await http.post("/v1/contacts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    contact: dict[str, Any] = response.json()
    return contact


def update_row(row_number: int, contact_id: int, **values: Any) -> BulkApplyRow:
    return BulkApplyRow(row_number=row_number, action=RowAction.UPDATE, contact_id=contact_id, values=values)


def create_row(row_number: int, **values: Any) -> BulkApplyRow:
    return BulkApplyRow(row_number=row_number, action=RowAction.CREATE, values=values)


def batch(
    rows: list[BulkApplyRow], fields: list[str], tag: str | None = None, key: str | None = None
) -> BulkApplyRequest:
    import_id = str(uuid.uuid4())
    return BulkApplyRequest(
        idempotency_key=key or f"{import_id}:1",
        import_id=import_id,
        requested_by="user:1",
        fields=fields,
        tag=tag,
        rows=rows,
    )
