"""The OpenAPI document explains the API: tags, models, both auth schemes."""

from __future__ import annotations

from services.contacts.bootstrap import create_app
from shared.contacts_api import INTERNAL_PREFIX


def test_openapi_document() -> None:
    document = create_app().openapi()
    paths = document["paths"]
    internal = {p for p in paths if p.startswith(INTERNAL_PREFIX)}
    assert {f"{INTERNAL_PREFIX}/ping", f"{INTERNAL_PREFIX}/accounts/{{account_id}}/bulk-apply"} <= internal
    for path in internal:
        for operation in paths[path].values():
            assert operation["tags"] == ["internal"]
    assert paths["/v1/contacts"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(document["components"]["securitySchemes"]) == {"ApiToken", "InternalToken"}
    assert "BulkApplyResult" in document["components"]["schemas"]
