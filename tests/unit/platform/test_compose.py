"""docker-compose.yml cannot run here (no Docker engine): check that it holds every
service, port and environment variable the code reads, derived from the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import SecretStr

from shared.settings import KafkaSettings, PostgresSettings, S3Settings
from tools.write_api_docs import SERVICE_SETTINGS, env_variables

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
DEPENDS = {
    "contacts": {"postgres"},
    "export": {"postgres", "kafka", "s3", "contacts"},
    "importer": {"postgres", "kafka", "s3", "contacts"},
}


def resolved(value: object) -> str:
    """A value as compose gives it when no variable is set: `${X:-default}` → default."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", str(value))


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: resolved(value) for key, value in env.items()}


def host_port(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def published(service: str) -> set[tuple[int, int]]:
    return {tuple(int(p) for p in str(m).split(":")[-2:]) for m in SERVICES[service].get("ports", [])}  # type: ignore[misc]


def bind_mounts(service: str) -> dict[str, str]:
    """Container path → host path of the service's files from the repository."""
    mounts = {}
    for volume in SERVICES[service].get("volumes", []):
        host, container, *_ = volume.split(":")
        if host.startswith("./"):
            mounts[container] = host
    return mounts


def test_infrastructure_uses_the_official_images() -> None:
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:4.1.")
    assert SERVICES["postgres"]["image"] == "postgres:15"
    assert SERVICES["s3"]["image"].startswith("chrislusf/seaweedfs:")
    kafka = environment("kafka")
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft, no ZooKeeper"
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert len(kafka["CLUSTER_ID"]) == 22, "a base64 UUID, as kafka-storage random-uuid gives"


def test_every_container_has_a_health_check() -> None:
    missing = [name for name, service in SERVICES.items() if "healthcheck" not in service]
    assert not missing


def test_infrastructure_is_published_where_the_development_defaults_look() -> None:
    # Services run on the host with no env at all reach the compose infrastructure.
    assert (PostgresSettings().port, 5432) in published("postgres")
    kafka_host_port = host_port(KafkaSettings().bootstrap_servers)[1]
    assert (kafka_host_port, kafka_host_port) in published("kafka")
    assert f"//localhost:{kafka_host_port}" in environment("kafka")["KAFKA_ADVERTISED_LISTENERS"]
    assert (host_port(S3Settings().endpoint)[1], s3_port()) in published("s3")


def s3_port() -> int:
    match = re.search(r"-s3\.port=(\d+)", SERVICES["s3"]["command"])
    assert match, "give the S3 port explicitly"
    return int(match[1])


def test_s3_checks_signatures_with_the_credentials_the_services_use() -> None:
    command = SERVICES["s3"]["command"]
    match = re.search(r"-s3\.config=(\S+)", command)
    assert match, "without an identity SeaweedFS checks no signature"
    identities = json.loads((ROOT / bind_mounts("s3")[match[1]]).read_text())["identities"]
    credentials = {(c["accessKey"], c["secretKey"]) for i in identities for c in i.get("credentials", [])}
    for name in ("export", "importer"):
        prefix = name.upper() + "_"
        env = environment(name)
        assert (env[prefix + "S3__ACCESS_KEY"], env[prefix + "S3__SECRET_KEY"]) in credentials


def test_postgres_init_creates_every_service_database() -> None:
    init = [host for path, host in bind_mounts("postgres").items() if "docker-entrypoint-initdb.d" in path]
    assert init, "the databases are created by an init script"
    sql = (ROOT / init[0]).read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", sql))
    for name, settings_cls in SERVICE_SETTINGS.items():
        database = environment(name)[name.upper() + "_POSTGRES__DATABASE"]
        assert database == settings_cls().postgres.database  # type: ignore[attr-defined]
        assert database in created


@pytest.mark.parametrize("name", SERVICE_SETTINGS)
def test_service_reads_exactly_the_variables_of_its_settings(name: str) -> None:
    expected = set(env_variables(SERVICE_SETTINGS[name]))
    given = set(environment(name))
    prefix = name.upper() + "_"
    assert not expected - given, f"{name}: missing in docker-compose.yml: {sorted(expected - given)}"
    unknown = {v for v in given if v.startswith(prefix)} - expected
    assert not unknown, f"{name}: read by no setting (a typo?): {sorted(unknown)}"


@pytest.mark.parametrize("name", SERVICE_SETTINGS)
def test_service_is_built_from_the_one_dockerfile(name: str) -> None:
    service = SERVICES[name]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).exists()
    assert service["command"] == ["python", "-m", f"services.{name}"]
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)


@pytest.mark.parametrize("name", SERVICE_SETTINGS)
def test_service_port_health_check_and_dependencies(name: str) -> None:
    prefix = name.upper() + "_"
    env = environment(name)
    port = SERVICE_SETTINGS[name]().http_port
    assert env[prefix + "HTTP_PORT"] == str(port)
    assert env[prefix + "HTTP_HOST"] == "0.0.0.0", "reachable from outside its container"
    assert (port, port) in published(name)
    assert f"127.0.0.1:{port}/readyz" in " ".join(SERVICES[name]["healthcheck"]["test"])
    depends = SERVICES[name]["depends_on"]
    assert set(depends) == DEPENDS[name]
    assert all(d["condition"] == "service_healthy" for d in depends.values())


@pytest.mark.parametrize("name", SERVICE_SETTINGS)
def test_service_addresses_point_at_the_compose_services(name: str) -> None:
    prefix = name.upper() + "_"
    env = environment(name)
    kafka_host, kafka_port = host_port(env[prefix + "KAFKA__BOOTSTRAP_SERVERS"])
    assert kafka_host in SERVICES
    assert f"//{kafka_host}:{kafka_port}" in environment("kafka")["KAFKA_ADVERTISED_LISTENERS"]
    assert env[prefix + "POSTGRES__HOST"] in SERVICES and env[prefix + "POSTGRES__PORT"] == "5432"
    assert env[prefix + "POSTGRES__PASSWORD"] == environment("postgres")["POSTGRES_PASSWORD"]
    assert env[prefix + "POSTGRES__USER"] == environment("postgres")["POSTGRES_USER"]
    if prefix + "S3__ENDPOINT" in env:
        assert host_port(env[prefix + "S3__ENDPOINT"]) == ("s3", s3_port())
    if prefix + "CONTACTS_API__BASE_URL" in env:
        url = urlsplit(env[prefix + "CONTACTS_API__BASE_URL"])
        assert (url.hostname, url.port) == ("contacts", SERVICE_SETTINGS["contacts"]().http_port)
        assert env[prefix + "CONTACTS_API__INTERNAL_TOKEN"] == environment("contacts")["CONTACTS_INTERNAL_TOKEN"]


@pytest.mark.parametrize("name", SERVICE_SETTINGS)
def test_development_explicitly_or_real_secrets(name: str) -> None:
    prefix = name.upper() + "_"
    env = environment(name)
    if env[prefix + "ENVIRONMENT"] == "development":
        return
    defaults = {v: d for v, d in env_variables(SERVICE_SETTINGS[name]).items() if isinstance(d, SecretStr)}
    defaulted = [v for v, d in defaults.items() if env[v] == d.get_secret_value()]
    assert not defaulted, f"{name} would refuse to start: {defaulted}"
