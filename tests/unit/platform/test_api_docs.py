"""docs/asyncapi.yaml, docs/openapi-*.json and the env list of docs/operations.md are
generated from the code by `make docs`; a change to the code without it fails here."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
import yaml

from shared import topics
from tools.write_api_docs import DOCS, render

# CONTRACT.md: the HTTP routes clients rely on.
CONTRACT_ROUTES = {
    "contacts": {
        ("get", "/v1/contacts"),
        ("post", "/v1/contacts"),
        ("get", "/v1/contacts/{contact_id}"),
        ("patch", "/v1/contacts/{contact_id}"),
        ("get", "/v1/custom-fields"),
        ("post", "/v1/custom-fields"),
    },
    "export": {
        ("post", "/v1/exports"),
        ("get", "/v1/exports"),
        ("get", "/v1/exports/{export_id}"),
        ("get", "/v1/exports/{export_id}/download"),
    },
    "importer": {
        ("post", "/v1/imports"),
        ("get", "/v1/imports"),
        ("get", "/v1/imports/{import_id}"),
        ("post", "/v1/imports/{import_id}/confirm"),
        ("get", "/v1/imports/{import_id}/feedback"),
        ("get", "/v1/imports/{import_id}/report"),
        ("post", "/v1/imports/{import_id}/start"),
    },
}


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return {path.name: text for path, text in render().items()}


def test_documents_in_docs_are_current(generated: dict[str, str]) -> None:
    stale = []
    for name, text in generated.items():
        path = DOCS / name
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"docs/{name} (checked in)",
                tofile=f"docs/{name} (from the code)",
                n=1,
            )
            stale.append("".join(list(diff)[:40]))
    assert not stale, (
        "the documents in docs/ are out of date: run `make docs` (python -m tools.write_api_docs)\n" + "\n".join(stale)
    )


def test_asyncapi_documents_every_topic(generated: dict[str, str]) -> None:
    document = yaml.safe_load(generated["asyncapi.yaml"])
    addresses = {channel["address"] for channel in document["channels"].values()}
    missing = set(topics.JOB_TOPICS + topics.DLQ_TOPICS) - addresses
    assert not missing, f"topics missing from the AsyncAPI document: {sorted(missing)}"
    assert document["asyncapi"].startswith("3.")


def test_asyncapi_payloads_are_cloudevents(generated: dict[str, str]) -> None:
    schemas = yaml.safe_load(generated["asyncapi.yaml"])["components"]["schemas"]
    envelopes = [name for name in schemas if name.startswith("CloudEvent")]
    assert envelopes
    for name in envelopes:
        properties = schemas[name]["properties"]
        assert {"specversion", "id", "source", "type", "time", "data"} <= set(properties), name


@pytest.mark.parametrize("service", sorted(CONTRACT_ROUTES))
def test_openapi_has_the_contract_routes(service: str, generated: dict[str, str]) -> None:
    paths = json.loads(generated[f"openapi-{service}.json"])["paths"]
    routes = {(method, path) for path, methods in paths.items() for method in methods}
    missing = CONTRACT_ROUTES[service] - routes
    assert not missing, f"{service} lacks contract routes: {sorted(missing)}"
    assert {("get", "/healthz"), ("get", "/readyz")} <= routes


def test_check_mode_reports_a_stale_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tools.write_api_docs as tool

    copy = tmp_path / "docs"
    copy.mkdir()
    for name, text in tool.render().items():
        (copy / name.name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(tool, "DOCS", copy)
    assert tool.main(["--check"]) == 0
    (copy / "openapi-export.json").write_text("{}\n", encoding="utf-8")
    assert tool.main(["--check"]) == 1
    assert "docs/openapi-export.json is out of date: run `make docs`" in capsys.readouterr().err
