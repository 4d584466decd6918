"""Every platform integration test runs against the real Kafka, PostgreSQL and S3."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _real_servers(real_infra: None) -> None:
    """Starts the local stack when it is not running (tests/conftest.py)."""
