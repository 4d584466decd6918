"""Fault tests run on private infrastructure (tests/reliability/harness.py): each module
gets its own PostgreSQL cluster and the session a Kafka broker of its own, which a test
may stop and restart; of the shared local stack only S3 is used (a bucket per stack).
A private Kafka also keeps other deployments' commands on the shared topics away from
these services (a new consumer group reads the topics from their beginning)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import PrivatePostgres, RestartableKafka


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/reliability/" in str(item.path):
            item.add_marker(pytest.mark.infra)


@pytest.fixture(scope="module")
def private_postgres(real_infra: None) -> Iterator[PrivatePostgres]:
    """A private cluster; the shared stack (for S3) is started if it is not running."""
    postgres = PrivatePostgres().start()
    try:
        yield postgres
    finally:
        postgres.destroy()


@pytest.fixture(scope="session")
def private_kafka(real_infra: None) -> Iterator[RestartableKafka]:
    workdir = Path(tempfile.mkdtemp(prefix="crm-bulk-kafka-"))
    kafka = RestartableKafka(workdir).start()
    try:
        yield kafka
    finally:
        kafka.stop()
        shutil.rmtree(workdir, ignore_errors=True)
