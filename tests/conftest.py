"""Session fixtures: the real infrastructure and the three services as processes.

Tests marked `infra` or `services` get them; unit tests start nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.support.stack import (
    CONSUMED_TOPICS,
    INTERNAL_TOKEN,
    ServiceProcess,
    drop_test_databases,
    free_port,
    infra,
    infra_running,
    logs_dir,
    service_env,
    start_groups_at_the_end,
    test_instance,
)

# The default suite tries the same examples on every run, so that a commit's verdict is
# reproducible and a red run names a regression, not a new find on a lucky draw (CI gates
# landing on it). CRM_BULK_LONG=1 explores: a new draw each run, finds kept in
# .hypothesis/ and tried first next time.
settings.register_profile("reproducible", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile("explore" if os.environ.get("CRM_BULK_LONG") == "1" else "reproducible")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Integration and e2e tests need the real servers; mark them so `-m "not infra"` works.
    for item in items:
        path = str(item.path)
        if "/integration/" in path or "/e2e/" in path:
            item.add_marker(pytest.mark.infra)
        if "/e2e/" in path:
            item.add_marker(pytest.mark.services)


@pytest.fixture(scope="session")
def real_infra() -> Iterator[None]:
    """Kafka, PostgreSQL and S3, started here if they were not running (and then stopped)."""
    started = False
    if not infra_running():
        infra("start")
        started = True
    yield
    if started:
        infra("stop")


class Services:
    def __init__(self, contacts: ServiceProcess, export: ServiceProcess, importer: ServiceProcess) -> None:
        self.contacts = contacts
        self.export = export
        self.importer = importer

    def all(self) -> tuple[ServiceProcess, ...]:
        return (self.contacts, self.export, self.importer)


@pytest.fixture(scope="session")
def internal_token() -> str:
    return INTERNAL_TOKEN


@pytest.fixture(scope="session")
def services(real_infra: None) -> Iterator[Services]:
    """The three services as real processes on free ports, with test databases."""
    logs = logs_dir()
    run_id = uuid.uuid4().hex[:8]
    ports = {name: free_port() for name in ("contacts", "export", "importer")}
    contacts_url = f"http://127.0.0.1:{ports['contacts']}"
    procs = {
        name: ServiceProcess(name, port, service_env(name, port, contacts_url, run_id), logs / f"test-{name}.log")
        for name, port in ports.items()
    }
    os.environ["CRM_BULK_TEST_CONTACTS_DB"] = procs["contacts"].env["CONTACTS_POSTGRES__DATABASE"]
    start_groups_at_the_end(
        {procs[name].env[f"{name.upper()}_CONSUMER_GROUP"]: topics for name, topics in CONSUMED_TOPICS.items()}
    )
    # Another deployment on the same Kafka (a running `make run`, another test session)
    # also answers these commands, for accounts it does not know: watch our own events.
    os.environ["CRM_BULK_TEST_EVENT_SOURCE"] = f"/{test_instance(run_id)}/"
    started: list[ServiceProcess] = []
    try:
        for name in ("contacts", "export", "importer"):
            started.append(procs[name].start())
        yield Services(procs["contacts"], procs["export"], procs["importer"])
    finally:
        for proc in reversed(started):
            proc.stop()
        drop_test_databases(run_id)
