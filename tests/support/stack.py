"""Test-side control of the local stack and of service processes.

The infrastructure is started by deploy/local/infra.sh (the README's test command does
it; a bare `pytest` run does it too and stops it afterwards). Services under test run as
real processes on their own ports and databases, so a running product is not disturbed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "deploy" / "local" / "infra.sh"

PG_PORT = int(os.environ.get("CRM_BULK_PG_PORT", "15432"))
KAFKA_PORT = int(os.environ.get("CRM_BULK_KAFKA_PORT", "19092"))
S3_PORT = int(os.environ.get("CRM_BULK_S3_PORT", "18333"))
KAFKA_BOOTSTRAP = f"127.0.0.1:{KAFKA_PORT}"
S3_ENDPOINT = f"127.0.0.1:{S3_PORT}"
# SeaweedFS's filer (deploy/local/infra.sh), whose metadata shows how objects are stored.
SEAWEEDFS_FILER_PORT = int(os.environ.get("CRM_BULK_SW_FILER_PORT", "18888"))
INTERNAL_TOKEN = "crm-bulk-test-internal-token"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def infra_running() -> bool:
    return all(port_open(p) for p in (PG_PORT, KAFKA_PORT, S3_PORT))


def infra(command: str) -> None:
    subprocess.run(["bash", str(INFRA), command], check=True, timeout=1800)


def logs_dir() -> Path:
    out = subprocess.run(["bash", str(INFRA), "env"], check=True, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        for part in line.replace("export ", "").split():
            if part.startswith("CRM_BULK_LOGS="):
                return Path(part.split("=", 1)[1])
    raise RuntimeError("infra.sh env printed no CRM_BULK_LOGS")


def test_instance(run_id: str) -> str:
    """The `instance` of a test session's services: the `source` of their events."""
    return f"crm-bulk-test-{run_id}"


def service_env(service: str, port: int, contacts_url: str, run_id: str) -> dict[str, str]:
    """The environment of one service under test: its own port, a database of this test
    session (`<db>_test_<run_id>`) and consumer group, so that neither a running product
    nor a previous session's leftovers can interfere."""
    prefix = {"contacts": "CONTACTS_", "export": "EXPORT_", "importer": "IMPORTER_"}[service]
    database = {"contacts": "crm_contacts", "export": "crm_export", "importer": "crm_importer"}[service]
    env = {
        f"{prefix}HTTP_PORT": str(port),
        f"{prefix}POSTGRES__PORT": str(PG_PORT),
        f"{prefix}POSTGRES__DATABASE": f"{database}_test_{run_id}",
        f"{prefix}KAFKA__BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP,
        f"{prefix}S3__ENDPOINT": S3_ENDPOINT,
        f"{prefix}CONTACTS_API__BASE_URL": contacts_url,
        f"{prefix}CONTACTS_API__INTERNAL_TOKEN": INTERNAL_TOKEN,
        f"{prefix}INTERNAL_TOKEN": INTERNAL_TOKEN,
        f"{prefix}CONSUMER_GROUP": f"crm-bulk-{service}-test-{run_id}",
        f"{prefix}INSTANCE": test_instance(run_id),
    }
    return env


def drop_test_databases(run_id: str) -> None:
    """Drops the databases of one test session (see `service_env`)."""
    import asyncio

    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(f"postgresql://crm_bulk:crm-bulk-dev@127.0.0.1:{PG_PORT}/postgres")
        try:
            for name in ("crm_contacts", "crm_export", "crm_importer"):
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}_test_{run_id}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


# What each service's consumer group reads.
CONSUMED_TOPICS = {
    "export": ("contacts.export.requested",),
    "importer": ("contacts.import.start", "contacts.import.validate"),
}


def start_groups_at_the_end(groups: dict[str, tuple[str, ...]]) -> None:
    """Commits, for new consumer groups, the current end of the topics they read.

    A new group reads from the earliest offset (so that no command published before it
    joined is lost); a test session's new groups would then replay every command that
    earlier sessions left on the shared topics. Starting them at the end gives each
    session only its own commands.
    """
    import asyncio

    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.structs import OffsetAndMetadata

    async def commit_ends() -> None:
        for group, topics in groups.items():
            consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP, group_id=group, enable_auto_commit=False)
            await consumer.start()
            try:
                cluster = consumer._client.cluster
                await consumer._client.force_metadata_update()
                partitions = [
                    TopicPartition(topic, p) for topic in topics for p in cluster.partitions_for_topic(topic) or ()
                ]
                consumer.assign(partitions)
                ends = await consumer.end_offsets(partitions)
                await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in ends.items()})
            finally:
                await consumer.stop()

    asyncio.run(commit_ends())


@dataclass
class ServiceProcess:
    """One service run as `python -m services.<name>`."""

    name: str
    port: int
    env: Mapping[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_ready: bool = True, timeout_s: float = 60.0) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if wait_ready:
            self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready in {timeout_s} s; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)
