"""A service that cannot reach or use a dependency ends at once with exit code 2 and one
line on stderr naming it: no stack trace, no retry loop."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.platform.schema_snapshot import drop_databases
from tests.support.stack import ROOT, free_port, service_env

STARTUP_BOUND_S = 45.0


@pytest.fixture(scope="module")
def database_suffix() -> Iterator[str]:
    suffix = f"_badconfig_{uuid.uuid4().hex[:8]}"
    yield suffix
    drop_databases(suffix)


def run_service(name: str, suffix: str, **overrides: str) -> tuple[int, list[str], float]:
    """Runs `python -m services.<name>` to its end; its exit code, stderr lines, duration."""
    prefix = name.upper() + "_"
    port = free_port()
    env = service_env(name, port, "http://127.0.0.1:9", suffix)
    env.update({prefix + key: value for key, value in overrides.items()})
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"services.{name}"],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            timeout=STARTUP_BOUND_S + 15,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name} neither started nor gave up in {STARTUP_BOUND_S + 15:.0f} s")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return done.returncode, lines, time.monotonic() - started


def assert_one_clear_line(name: str, code: int, lines: list[str], took: float, *names: str) -> str:
    assert code == 2, f"{name} exited {code}: {lines}"
    assert took < STARTUP_BOUND_S
    assert not any("Traceback" in line for line in lines), "\n".join(lines)
    assert len(lines) == 1, "expected one line on stderr, got:\n" + "\n".join(lines)
    line = lines[0]
    assert line.startswith(f"{name}: "), line
    for expected in names:
        assert expected in line, f"{expected!r} not in {line!r}"
    return line


@pytest.mark.parametrize("name", ["contacts", "export", "importer"])
def test_wrong_database_password(name: str, database_suffix: str) -> None:
    code, lines, took = run_service(name, database_suffix, POSTGRES__PASSWORD="not-the-password")
    assert_one_clear_line(name, code, lines, took, "PostgreSQL", "password authentication failed")


@pytest.mark.parametrize("name", ["export", "importer"])
def test_unreachable_broker(name: str, database_suffix: str) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    code, lines, took = run_service(name, database_suffix, KAFKA__BOOTSTRAP_SERVERS=nowhere)
    assert_one_clear_line(name, code, lines, took, "Kafka", nowhere)


@pytest.mark.parametrize("name", ["export", "importer"])
def test_unreachable_object_store(name: str, database_suffix: str) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    code, lines, took = run_service(name, database_suffix, S3__ENDPOINT=nowhere)
    assert_one_clear_line(name, code, lines, took, "S3", nowhere)


@pytest.mark.parametrize(
    ("name", "variables"),
    [
        ("contacts", ["CONTACTS_POSTGRES__PASSWORD", "CONTACTS_INTERNAL_TOKEN"]),
        ("export", ["EXPORT_POSTGRES__PASSWORD", "EXPORT_S3__SECRET_KEY", "EXPORT_CONTACTS_API__INTERNAL_TOKEN"]),
        ("importer", ["IMPORTER_POSTGRES__PASSWORD", "IMPORTER_S3__ACCESS_KEY", "IMPORTER_S3__SECRET_KEY"]),
    ],
)
def test_default_secrets_outside_development(name: str, variables: list[str], database_suffix: str) -> None:
    # service_env sets the internal tokens; drop them so every development default shows.
    code, lines, took = run_service(
        name,
        database_suffix,
        ENVIRONMENT="production",
        INTERNAL_TOKEN="crm-bulk-dev-internal-token",
        CONTACTS_API__INTERNAL_TOKEN="crm-bulk-dev-internal-token",
    )
    assert_one_clear_line(name, code, lines, took, *variables)
