"""The export service's composition root: settings → connections → app and broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from services.export.adapters.export_repository import ExportRepository
from services.export.config import ExportSettings
from services.export.entrypoints import http, messages
from services.export.service_layer.build_export import ExportBuilder, sweep_abandoned_uploads
from shared.auth import TokenAuthenticator
from shared.contacts_client import ContactsClient
from shared.kafka import create_broker, publish_event
from shared.s3 import ObjectStore
from shared.service_app import (
    Infrastructure,
    add_health_routes,
    connect_infrastructure,
    connect_store_and_contacts,
    start_broker,
)

MIGRATIONS = Path(__file__).parent / "sql" / "migrations"
# An export's upload takes minutes at most: a day-old unfinished one is abandoned.
ABANDONED_UPLOAD_AGE = timedelta(days=1)
ABANDONED_UPLOAD_SWEEP_INTERVAL = timedelta(hours=1)


@dataclass
class ExportDeps:
    settings: ExportSettings
    pool: asyncpg.Pool
    broker: KafkaBroker
    store: ObjectStore
    contacts: ContactsClient
    auth: TokenAuthenticator
    repository: ExportRepository
    builder: ExportBuilder


def build_broker(settings: ExportSettings) -> KafkaBroker:
    broker = create_broker(settings.kafka, "export", settings.event_source)
    broker.include_router(messages.build_router(settings.consumer_group))
    return broker


def create_app(infra: Infrastructure | None = None) -> FastAPI:
    app = FastAPI(
        title="crm-bulk export service",
        version="1.0.0",
        description="Exports of selected contacts to CSV/XLSX files (the Exports page).",
    )
    app.include_router(http.router)
    if infra is not None:
        add_health_routes(app, infra.readiness)
    return app


async def build(settings: ExportSettings) -> tuple[FastAPI, Callable[[], Awaitable[None]]]:
    broker = build_broker(settings)
    infra = await connect_infrastructure(settings, MIGRATIONS, broker)
    store, contacts = await connect_store_and_contacts(infra, settings.s3, settings.contacts_api)
    repository = ExportRepository(infra.pool)

    async def publish(topic: str, job_id: str, data: BaseModel) -> object:
        return await publish_event(broker, settings.event_source, topic, job_id, data)

    builder = ExportBuilder(repository, contacts, store, publish, timedelta(seconds=settings.download_url_ttl_s))
    deps = ExportDeps(settings, infra.pool, broker, store, contacts, TokenAuthenticator(contacts), repository, builder)
    broker.context.set_global("deps", deps)
    sweeper = asyncio.create_task(sweep_abandoned_uploads(store, ABANDONED_UPLOAD_SWEEP_INTERVAL, ABANDONED_UPLOAD_AGE))

    async def stop_sweeper() -> None:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper

    infra.on_close(stop_sweeper)
    await start_broker(infra, settings)
    app = create_app(infra)
    app.state.deps = deps
    return app, infra.close
