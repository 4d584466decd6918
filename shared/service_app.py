"""What every service process has in common: a FastAPI app with `/healthz` and `/readyz`,
the Kafka broker started and stopped with it, and a `run` that turns bad configuration
into one clear error line instead of a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pydantic
import uvicorn
import uvloop
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker

from shared.contacts_client import ContactsClient
from shared.s3 import ObjectStore
from shared.settings import ContactsApiSettings, S3Settings, ServiceSettings

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]
READINESS_TIMEOUT_S = 2.0
# How long one step of a service's start (a connection, a topic check) may take.
STARTUP_STEP_TIMEOUT_S = 30.0


class StartupError(Exception):
    """A dependency cannot be reached or is misconfigured: say which, in one line."""


@dataclass
class Readiness:
    checks: dict[str, ReadinessCheck] = field(default_factory=dict)

    def add(self, name: str, check: ReadinessCheck) -> None:
        self.checks[name] = check

    async def report(self) -> dict[str, bool]:
        async def run(check: ReadinessCheck) -> bool:
            try:
                return await asyncio.wait_for(check(), READINESS_TIMEOUT_S)
            except Exception:
                return False

        results = await asyncio.gather(*(run(c) for c in self.checks.values()))
        return dict(zip(self.checks, results, strict=True))


def postgres_check(pool: asyncpg.Pool) -> ReadinessCheck:
    async def check() -> bool:
        async with pool.acquire(timeout=READINESS_TIMEOUT_S) as conn:
            return bool(await conn.fetchval("SELECT 1"))

    return check


def kafka_check(broker: KafkaBroker) -> ReadinessCheck:
    async def check() -> bool:
        return await broker.ping(timeout=READINESS_TIMEOUT_S)

    return check


def add_health_routes(app: FastAPI, readiness: Readiness) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is alive.")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Every dependency answers (503 otherwise).")
    async def readyz() -> JSONResponse:
        report = await readiness.report()
        ready = all(report.values())
        return JSONResponse(
            {"status": "ready" if ready else "unready", "checks": report},
            status_code=200 if ready else 503,
        )


@asynccontextmanager
async def broker_lifespan(broker: KafkaBroker | None) -> AsyncIterator[None]:
    if broker is None:
        yield
        return
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiokafka logs every failed connection attempt at ERROR; during startup the one line
    # of `run_service` says it, afterwards /readyz does.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    # urllib3 (under minio) warns on every retry; /readyz says that S3 is down.
    logging.getLogger("urllib3").setLevel(logging.ERROR)


def describe_error(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return " ".join(text.split())


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def load_settings(settings_cls: type[SettingsT]) -> SettingsT:
    """The service's settings from its environment; a bad value (or a development secret
    outside development) ends the process with one line naming the variables, exit 2."""
    try:
        return settings_cls()
    except pydantic.ValidationError as exc:
        prefix = settings_cls.model_config.get("env_prefix", "")
        problems = []
        for error in exc.errors():
            where = "__".join(str(part) for part in error["loc"]).upper()
            problems.append(f"{prefix}{where}: {error['msg']}" if where else str(error["msg"]))
        service = settings_cls.model_fields["service_name"].default
        print(f"{service}: bad configuration: {'; '.join(problems)}", file=sys.stderr)
        raise SystemExit(2) from None


def run_service(
    settings: ServiceSettings,
    build_app: Callable[[], Awaitable[tuple[FastAPI, Callable[[], Awaitable[None]]]]],
) -> None:
    """Builds the app (connecting to its dependencies), serves it until SIGTERM/SIGINT,
    then closes what it opened. Exits 2 with one line on a startup failure."""
    configure_logging(settings.log_level)

    async def main() -> None:
        try:
            app, close = await build_app()
        except StartupError as exc:
            print(f"{settings.service_name}: cannot start: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        config = uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level=settings.log_level.lower(),
            lifespan="on",
            access_log=False,
        )
        server = uvicorn.Server(config)
        try:
            await server.serve()
        finally:
            await close()

    # uvloop (libuv; uvicorn[standard] brings it): each socket read and write and each
    # callback costs a fraction of asyncio's own loop, which counts where a service
    # relays hundreds of MB (a CSV export passes every byte through two services).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


async def startup_step(
    what: str, step: Awaitable[Any], timeout_s: float | None = None, *, unbounded: bool = False
) -> Any:
    """Runs one startup step within `timeout_s` (STARTUP_STEP_TIMEOUT_S by default), or
    with no limit when `unbounded`; any failure becomes a StartupError that names it."""
    limit = None if unbounded else (timeout_s if timeout_s is not None else STARTUP_STEP_TIMEOUT_S)
    try:
        return await asyncio.wait_for(step, limit)
    except TimeoutError:
        raise StartupError(f"{what}: no answer in {limit or 0:.0f} s") from None
    except StartupError:
        raise
    except Exception as exc:
        raise StartupError(f"{what}: {describe_error(exc)}") from None


@dataclass
class Infrastructure:
    """The connections one service process holds, opened in order and closed in reverse."""

    pool: asyncpg.Pool
    readiness: Readiness
    broker: KafkaBroker | None = None
    _closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    def on_close(self, closer: Callable[[], Awaitable[Any]]) -> None:
        self._closers.append(closer)

    async def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:
                log.exception("error while closing")


async def connect_infrastructure(
    settings: ServiceSettings,
    migrations: Path,
    broker: KafkaBroker | None = None,
) -> Infrastructure:
    """Applies the service's migrations, opens its pool and (if it has one) creates the
    project's topics for its broker. The broker is started last, by `start_broker`, once
    its handlers' dependencies are in place: a message consumed before would fail.
    Raises StartupError naming what failed."""
    from shared.kafka import ensure_topics
    from shared.postgres import create_pool, migrate

    pg = settings.postgres
    where = f"PostgreSQL at {pg.host}:{pg.port}/{pg.database} as {pg.user}"
    # No time limit on the migrations themselves (connecting has its own): one that
    # builds an index on a large table takes minutes, and cutting it off at the step's
    # limit would roll it back at every start, for ever.
    await startup_step(where, migrate(pg, migrations), unbounded=True)
    pool = await startup_step(where, create_pool(pg))
    infra = Infrastructure(pool=pool, readiness=Readiness())
    infra.on_close(pool.close)
    infra.readiness.add("postgres", postgres_check(pool))
    if broker is not None:
        kafka_where = f"Kafka at {settings.kafka.bootstrap_servers}"
        try:
            await startup_step(kafka_where, ensure_topics(settings.kafka), timeout_s=20)
        except StartupError:
            await infra.close()
            raise
        infra.broker = broker
    return infra


async def connect_store_and_contacts(
    infra: Infrastructure, s3: S3Settings, contacts_api: ContactsApiSettings
) -> tuple[ObjectStore, ContactsClient]:
    """The object store (its bucket made if missing) and the contacts service's client,
    both watched by /readyz."""
    store = ObjectStore(s3)
    contacts = ContactsClient(contacts_api)
    infra.on_close(contacts.close)
    try:
        await startup_step(f"S3 at {s3.endpoint}, bucket {s3.bucket}", store.ensure_bucket())
    except StartupError:
        await infra.close()
        raise
    infra.readiness.add("s3", store.is_ready)
    infra.readiness.add("contacts", contacts.is_ready)
    return store, contacts


async def start_broker(infra: Infrastructure, settings: ServiceSettings) -> None:
    """Starts consuming: the last step of a service's start, after its dependencies are
    set in the broker's context."""
    if infra.broker is None:
        return
    try:
        await startup_step(f"Kafka at {settings.kafka.bootstrap_servers}", infra.broker.start(), timeout_s=30)
    except StartupError:
        await infra.close()
        raise
    infra.on_close(infra.broker.stop)
    infra.readiness.add("kafka", kafka_check(infra.broker))
