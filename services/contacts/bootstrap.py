"""The contacts service's composition root. It owns the contact data and serves the
other services over HTTP; it consumes no Kafka topic, so it holds no broker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI

from services.contacts.config import ContactsSettings
from services.contacts.deps import ContactsDeps
from services.contacts.entrypoints import http
from shared.service_app import Infrastructure, add_health_routes, connect_infrastructure

MIGRATIONS = Path(__file__).parent / "sql" / "migrations"


__all__ = ["MIGRATIONS", "ContactsDeps", "build", "create_app"]


def create_app(infra: Infrastructure | None = None) -> FastAPI:
    app = FastAPI(
        title="crm-bulk contacts service",
        version="1.0.0",
        description="Owner of accounts, users, lifecycle stages, custom fields and contacts. "
        "The `internal` routes serve the export and importer services.",
    )
    app.include_router(http.router)
    http.install_error_handlers(app)
    if infra is not None:
        add_health_routes(app, infra.readiness)
    return app


async def build(settings: ContactsSettings) -> tuple[FastAPI, Callable[[], Awaitable[None]]]:
    infra = await connect_infrastructure(settings, MIGRATIONS)
    app = create_app(infra)
    app.state.deps = ContactsDeps(settings, infra.pool)
    return app, infra.close
