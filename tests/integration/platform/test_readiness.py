"""Each service's `/readyz` answers 503 while one of its dependencies is away and 200 again
once it is back. The services run as real processes; PostgreSQL and S3 are reached
through TCP proxies that the test cuts, Kafka is a private broker behind one."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.integration.platform.private_kafka import PrivateKafka
from tests.integration.platform.schema_snapshot import drop_databases
from tests.integration.platform.tcp_proxy import TcpProxy
from tests.support.stack import PG_PORT, S3_PORT, ServiceProcess, free_port, service_env

SERVICES = ("contacts", "export", "importer")
DEPENDENCIES = {
    "contacts": {"postgres"},
    "export": {"postgres", "kafka", "s3"},
    "importer": {"postgres", "kafka", "s3"},
}


@dataclass
class Stack:
    proxies: dict[str, TcpProxy]
    services: dict[str, ServiceProcess]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("readiness")
    kafka = PrivateKafka(workdir / "kafka")
    (workdir / "kafka").mkdir()
    proxies = {
        "postgres": TcpProxy("127.0.0.1", PG_PORT).start(),
        "s3": TcpProxy("127.0.0.1", S3_PORT).start(),
        "kafka": kafka.proxy,
    }
    suffix = f"_readyz_{uuid.uuid4().hex[:8]}"
    ports = {name: free_port() for name in SERVICES}
    services: dict[str, ServiceProcess] = {}
    try:
        kafka.start()
        for name in SERVICES:
            prefix = name.upper() + "_"
            env = service_env(name, ports[name], f"http://127.0.0.1:{ports['contacts']}", suffix)
            env[f"{prefix}POSTGRES__PORT"] = str(proxies["postgres"].port)
            env[f"{prefix}KAFKA__BOOTSTRAP_SERVERS"] = kafka.bootstrap
            env[f"{prefix}S3__ENDPOINT"] = proxies["s3"].address
            services[name] = ServiceProcess(name, ports[name], env, workdir / f"{name}.log").start(timeout_s=90)
        yield Stack(proxies, services)
    finally:
        for service in reversed(services.values()):
            service.stop()
        kafka.stop()
        for proxy in proxies.values():
            proxy.close()
        drop_databases(suffix)


def readiness(service: ServiceProcess) -> tuple[int, dict[str, bool]]:
    response = httpx.get(f"{service.url}/readyz", timeout=10)
    return response.status_code, response.json()["checks"]


def wait_readiness(service: ServiceProcess, status: int, timeout_s: float = 30.0) -> dict[str, bool]:
    deadline = time.monotonic() + timeout_s
    while True:
        code, checks = readiness(service)
        if code == status:
            return checks
        if time.monotonic() > deadline:
            raise AssertionError(f"{service.name} /readyz stayed {code} {checks}, expected {status}")
        time.sleep(0.3)


@pytest.mark.parametrize("dependency", ["postgres", "kafka", "s3"])
def test_readyz_follows_the_dependency(stack: Stack, dependency: str) -> None:
    for service in stack.services.values():
        wait_readiness(service, 200)

    stack.proxies[dependency].cut()
    try:
        for name, service in stack.services.items():
            if dependency in DEPENDENCIES[name]:
                checks = wait_readiness(service, 503)
                assert checks[dependency] is False, checks
            else:
                assert readiness(service)[0] == 200, f"{name} does not need {dependency}"
    finally:
        stack.proxies[dependency].restore()

    for service in stack.services.values():
        checks = wait_readiness(service, 200, timeout_s=60)
        assert all(checks.values()), checks
