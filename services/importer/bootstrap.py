"""The importer service's composition root: settings → connections → use cases → app
and broker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from services.importer.adapters.import_repository import ImportRepository
from services.importer.adapters.run_store import RunStore
from services.importer.adapters.validation_store import ValidationStore
from services.importer.config import ImporterSettings
from services.importer.domain.readers import ReaderLimits
from services.importer.entrypoints import http, messages
from services.importer.service_layer.announcements import Announcer
from services.importer.service_layer.apply_import import ApplyImport, RunSettings, resume_expired_runs
from services.importer.service_layer.confirm_import import ConfirmImport
from services.importer.service_layer.feedback_report import FeedbackReport
from services.importer.service_layer.ports import ContactsGateway
from services.importer.service_layer.prepare_import import PrepareImport
from services.importer.service_layer.validate_import import ValidateImportHandler
from shared.auth import TokenAuthenticator
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


@dataclass
class ImporterDeps:
    settings: ImporterSettings
    pool: asyncpg.Pool
    broker: KafkaBroker
    store: ObjectStore
    contacts: ContactsGateway
    auth: TokenAuthenticator
    repository: ImportRepository
    results: ValidationStore
    prepare: PrepareImport
    confirm: ConfirmImport
    validate: ValidateImportHandler
    apply: ApplyImport
    report: FeedbackReport
    source: str = "/crm-bulk/importer"


def build_broker(settings: ImporterSettings) -> KafkaBroker:
    broker = create_broker(settings.kafka, "importer", settings.event_source)
    broker.include_router(messages.build_router(settings.consumer_group))
    return broker


def create_app(infra: Infrastructure | None = None) -> FastAPI:
    app = FastAPI(
        title="crm-bulk importer service",
        version="1.0.0",
        description="Imports of contacts from spreadsheets (the Imports page): prepare, confirm, "
        "validation feedback, start.",
    )
    app.include_router(http.router)
    if infra is not None:
        add_health_routes(app, infra.readiness)
    return app


def wire(
    settings: ImporterSettings,
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    store: ObjectStore,
    contacts: ContactsGateway,
    auth: TokenAuthenticator,
) -> ImporterDeps:
    """The use cases on their adapters (tests wire them the same way)."""
    repository = ImportRepository(pool)
    results = ValidationStore(pool)

    async def publish(topic: str, job_id: str, data: BaseModel) -> object:
        return await publish_event(broker, settings.event_source, topic, job_id, data)

    announcer = Announcer(repository, publish)
    limits = ReaderLimits(max_rows=settings.max_rows, max_columns=settings.max_columns)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    run_settings = RunSettings(owner=owner, lease_s=settings.run_lease_s, batch_size=settings.apply_batch_size)
    return ImporterDeps(
        source=settings.event_source,
        settings=settings,
        pool=pool,
        broker=broker,
        store=store,
        contacts=contacts,
        auth=auth,
        repository=repository,
        results=results,
        prepare=PrepareImport(
            repository, store, contacts, announcer, limits, settings.max_upload_bytes, settings.temp_dir
        ),
        confirm=ConfirmImport(repository, contacts, publish),
        validate=ValidateImportHandler(
            repository, results, store, contacts, announcer, limits, temp_dir=settings.temp_dir
        ),
        apply=ApplyImport(repository, RunStore(pool), contacts, announcer, run_settings),
        report=FeedbackReport(results, store, limits, settings.temp_dir),
    )


async def build(settings: ImporterSettings) -> tuple[FastAPI, Callable[[], Awaitable[None]]]:
    broker = build_broker(settings)
    infra = await connect_infrastructure(settings, MIGRATIONS, broker)
    store, contacts = await connect_store_and_contacts(infra, settings.s3, settings.contacts_api)
    deps = wire(settings, infra.pool, broker, store, contacts, TokenAuthenticator(contacts))
    broker.context.set_global("deps", deps)
    sweeper = asyncio.create_task(resume_expired_runs(deps.apply, settings.run_lease_s / 2))

    async def stop_sweeper() -> None:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper

    # Closed in reverse: the sweeper stops before the broker and the pool it uses.
    infra.on_close(stop_sweeper)
    await start_broker(infra, settings)
    app = create_app(infra)
    app.state.deps = deps
    return app, infra.close
