"""Private infrastructure and a private stack for fault tests: a PostgreSQL cluster and a
Kafka broker of our own (that a test may stop and restart without touching the shared
local stack), and the three services as processes pointed at them. S3 stays shared: the
buckets and keys are per account and export.

Used by tests/reliability and by the soak scripts under bench/.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.contacts.adapters import accounts_store
from shared.postgres import init_connection
from shared.s3 import create_client
from shared.settings import S3Settings
from tests.integration.platform.private_kafka import PrivateKafka
from tests.support.stack import (
    KAFKA_BOOTSTRAP,
    ROOT,
    S3_ENDPOINT,
    ServiceProcess,
    free_port,
    logs_dir,
    port_open,
    service_env,
)

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "crm_bulk"
PG_PASSWORD = "crm-bulk-dev"


def _as_postgres(*command: str) -> list[str]:
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class PrivatePostgres:
    """A throwaway cluster in a temporary directory, on a free port, owned by the
    `postgres` OS user, with the flags of deploy/local/infra.sh. `stop` / `start` keep the
    data directory, so a restart is a real restart."""

    def __init__(self, workdir: Path | None = None) -> None:
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="crm-bulk-pg-"))
        self.data = self.workdir / "data"
        self.port = free_port()
        self.log = self.workdir / "postgres.log"

    def init(self) -> PrivatePostgres:
        os.chmod(self.workdir, 0o755)
        pwfile = self.workdir / "pw"
        pwfile.write_text(PG_PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "initdb"), "-D", str(self.data), "-U", PG_USER, f"--pwfile={pwfile}",
                "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
            ),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        pwfile.unlink()
        return self

    def start(self) -> PrivatePostgres:
        if not (self.data / "PG_VERSION").exists():
            self.init()
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c max_connections=200 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                         "start", "-o", options),
            check=True, capture_output=True, timeout=90,
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        """`fast` (clients disconnected, clean shutdown) or `immediate` (a crash: recovery
        from the WAL at the next start)."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"),
                check=False, capture_output=True, timeout=90,
            )  # fmt: skip

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def dsn(self, database: str) -> str:
        return f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.port}/{database}"


class RestartableKafka(PrivateKafka):
    """The private Kafka of tests/integration/platform, whose broker process can be
    stopped and started again on the same data directory (the proxy in front stays)."""

    def stop_broker(self) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def start_broker(self, timeout_s: float = 90.0) -> None:
        java = [
            "java", "-Xms128m", "-Xmx384m", f"-Dkafka.logs.dir={self.workdir}",
            f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'local' / 'kafka' / 'log4j2.properties'}",
            "-cp", f"{self._libs()}/*",
        ]  # fmt: skip
        log = (self.workdir / "kafka.out").open("ab")
        self.process = subprocess.Popen(
            [*java, "kafka.Kafka", str(self.workdir / "server.properties")], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout_s
        while not port_open(self.listen_port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the private Kafka did not start again; see {self.workdir / 'kafka.out'}")
            time.sleep(0.3)

    @staticmethod
    def _libs() -> Path:
        from tests.integration.platform.private_kafka import kafka_libs

        return kafka_libs()


class Stack:
    """The three services as processes on one PostgreSQL port and one Kafka, with their
    own databases (`<db>_rel_<run_id>`), consumer groups and instance name."""

    def __init__(
        self,
        pg_port: int,
        kafka_bootstrap: str = KAFKA_BOOTSTRAP,
        run_id: str | None = None,
        extra_env: dict[str, dict[str, str]] | None = None,
        label: str = "rel",
    ) -> None:
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.pg_port = pg_port
        self.bucket = f"crm-bulk-rel-{self.run_id}"
        ports = {name: free_port() for name in ("contacts", "export", "importer")}
        contacts_url = f"http://127.0.0.1:{ports['contacts']}"
        self.processes: dict[str, ServiceProcess] = {}
        for name, port in ports.items():
            prefix = name.upper() + "_"
            env = service_env(name, port, contacts_url, self.run_id)
            env[f"{prefix}POSTGRES__PORT"] = str(pg_port)
            env[f"{prefix}POSTGRES__DATABASE"] = f"{self.database(name)}"
            env[f"{prefix}KAFKA__BOOTSTRAP_SERVERS"] = kafka_bootstrap
            env[f"{prefix}CONSUMER_GROUP"] = f"crm-bulk-{name}-{label}-{self.run_id}"
            if name != "contacts":
                env[f"{prefix}S3__BUCKET"] = self.bucket
            env.update((extra_env or {}).get(name, {}))
            self.processes[name] = ServiceProcess(name, port, env, logs_dir() / f"{label}-{name}-{self.run_id}.log")
        self.source_prefix = f"/crm-bulk-test-{self.run_id}/"

    def database(self, service: str) -> str:
        base = {"contacts": "crm_contacts", "export": "crm_export", "importer": "crm_importer"}[service]
        return f"{base}_rel_{self.run_id}"

    def dsn(self, service: str) -> str:
        return f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.pg_port}/{self.database(service)}"

    @property
    def contacts(self) -> ServiceProcess:
        return self.processes["contacts"]

    @property
    def export(self) -> ServiceProcess:
        return self.processes["export"]

    @property
    def importer(self) -> ServiceProcess:
        return self.processes["importer"]

    def start(self, *names: str) -> Stack:
        for name in names or ("contacts", "export", "importer"):
            self.processes[name].start(timeout_s=120)
        return self

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()

    def replica(self, name: str, suffix: str = "2") -> ServiceProcess:
        """Another instance of service `name` of this stack: the same databases, consumer
        group and instance name, its own HTTP port and log file (not started)."""
        original = self.processes[name]
        port = free_port()
        env = {**original.env, f"{name.upper()}_HTTP_PORT": str(port)}
        log_path = original.log_path.with_name(f"{original.log_path.stem}-{suffix}.log")
        return ServiceProcess(name, port, env, log_path)


# --- what a service's log says -------------------------------------------------------

_ASSIGNED = re.compile(r"assigned to partitions: \((.*)\)")
_PARTITION = re.compile(r"topic='([^']+)', partition=(\d+)")


def assigned_partitions(log_path: Path, topic: str) -> set[int] | None:
    """The partitions of `topic` its consumer was last assigned, as the service's log
    (FastStream's "assigned to partitions") says; None before any assignment."""
    found = None
    for line in log_path.read_text(errors="replace").splitlines():
        match = _ASSIGNED.search(line)
        if match:
            found = {int(p) for t, p in _PARTITION.findall(match.group(1)) if t == topic}
    return found


def log_size(log_path: Path) -> int:
    return log_path.stat().st_size if log_path.exists() else 0


def log_since(log_path: Path, offset: int) -> str:
    """What the log got after byte `offset` (see `log_size`)."""
    with log_path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


# --- accounts and contacts, written as an operator and a seed would ------------------


@dataclass
class Account:
    account_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_account(stack: Stack) -> Account:
    """An account with an API token, through the contacts service's own account store
    (its database must exist: start the contacts service first)."""
    conn = await asyncpg.connect(stack.dsn("contacts"))
    await init_connection(conn)
    try:
        account_id = await accounts_store.create_account(conn, f"Conta de confiabilidade {uuid.uuid4().hex[:8]}")
        _, token = await accounts_store.issue_token(conn, account_id, label="reliability")
    finally:
        await conn.close()
    return Account(account_id, token)


async def seed_contacts(stack: Stack, account: Account, count: int, padding: int = 0) -> list[int]:
    """`count` contacts named `Pessoa <n>` (version 1) in one statement; `padding` adds
    that many characters to the company, to make an export file bigger. Returns the ids."""
    conn = await asyncpg.connect(stack.dsn("contacts"))
    try:
        rows = await conn.fetch(
            """
            INSERT INTO contacts (account_id, name, emails, company, lifecycle_stage, legal_entity)
            SELECT $1::bigint, 'Pessoa ' || n, ARRAY['pessoa' || n || '.' || $1::text || '@exemplo.com.br'],
                   'Empresa ' || n || ' ' || repeat('x', $3::int), 'lead', false
            FROM generate_series(1, $2::int) AS n
            RETURNING id
            """,
            account.account_id,
            count,
            padding,
        )
    finally:
        await conn.close()
    return sorted(r["id"] for r in rows)


def rename_sheet(ids: list[int], suffix: str = "Souza") -> bytes:
    """A pt-BR CSV that renames every contact of `ids` (seeded as `Pessoa <n>`): ID, Nome."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["ID", "Nome"])
    for position, contact_id in enumerate(ids, start=1):
        writer.writerow([contact_id, f"Pessoa {position} {suffix}"])
    return out.getvalue().encode("utf-8-sig")


# --- the importer through its HTTP API ---------------------------------------------


async def get_import(importer_url: str, account: Account, import_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        response = await http.get(f"{importer_url}/v1/imports/{import_id}")
        response.raise_for_status()
        return dict(response.json())


async def wait_until(check: Callable[[], Awaitable[Any]], timeout_s: float, what: str, every_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = await check()
        except (httpx.HTTPError, OSError, asyncpg.PostgresError):
            found = None  # the service or the database is coming back
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(every_s)


async def validated_import(stack: Stack, account: Account, content: bytes, timeout_s: float = 300) -> str:
    """Prepares and confirms an import of `content` (field `name`); returns its id once
    it is validated and ready to start."""
    url = stack.importer.url
    async with httpx.AsyncClient(headers=account.headers, timeout=300) as http:
        prepared = await http.post(f"{url}/v1/imports", files={"file": ("renomear.csv", content)})
        assert prepared.status_code == 201, prepared.text
        import_id = str(prepared.json()["import_id"])
        confirmed = await http.post(f"{url}/v1/imports/{import_id}/confirm", json={"fields": ["name"]})
        assert confirmed.status_code == 202, confirmed.text

    async def validated() -> dict[str, Any] | None:
        view = await get_import(url, account, import_id)
        assert view["state"] != "failed", view
        return view if view["state"] == "validated" else None

    view = await wait_until(validated, timeout_s, f"import {import_id} validated", every_s=0.5)
    assert view["ready_to_start"], view
    return import_id


async def start_import(stack: Stack, account: Account, import_id: str) -> None:
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        response = await http.post(f"{stack.importer.url}/v1/imports/{import_id}/start")
        assert response.status_code == 202 and response.json()["accepted"], response.text


async def batches_done(stack: Stack, import_id: str) -> tuple[int, int, str]:
    """(batches_done, batches_total, state) straight from the importer's database, which
    answers while the importer process is dead."""
    conn = await asyncpg.connect(stack.dsn("importer"))
    try:
        row = await conn.fetchrow(
            "SELECT batches_done, batches_total, state FROM imports WHERE import_id = $1::uuid", import_id
        )
    finally:
        await conn.close()
    assert row is not None
    return int(row["batches_done"] or 0), int(row["batches_total"] or 0), str(row["state"])


@dataclass(frozen=True)
class ExactlyOnce:
    """What the contacts database says about one rename import of `rows` contacts."""

    changes: int
    distinct_cells: int
    distinct_rows: int
    rows_in_order: bool
    versions: dict[int, int]  # version → how many contacts
    names_right: int
    batches_applied: int

    def problems(self, rows: int) -> list[str]:
        found = []
        if self.changes != rows:
            found.append(f"{self.changes} change-log rows, expected {rows}")
        if self.distinct_cells != rows or self.distinct_rows != rows or not self.rows_in_order:
            found.append(f"change log not one per row: {self.distinct_cells} cells, {self.distinct_rows} rows")
        if self.versions != {2: rows}:
            found.append(f"contact versions {self.versions}, expected every contact at version 2")
        if self.names_right != rows:
            found.append(f"{self.names_right} of {rows} contacts renamed")
        return found


async def exactly_once(stack: Stack, account: Account, import_id: str, ids: list[int]) -> ExactlyOnce:
    conn = await asyncpg.connect(stack.dsn("contacts"))
    try:
        log = await conn.fetchrow(
            """
            SELECT count(*) AS changes, count(DISTINCT (contact_id, field)) AS cells,
                   count(DISTINCT row_number) AS distinct_rows,
                   coalesce(min(row_number), 0) AS first_row, coalesce(max(row_number), 0) AS last_row
            FROM contact_changes WHERE account_id = $1 AND import_id = $2
            """,
            account.account_id,
            import_id,
        )
        versions = await conn.fetch(
            "SELECT version, count(*) AS n FROM contacts WHERE account_id = $1 GROUP BY version",
            account.account_id,
        )
        names_right = await conn.fetchval(
            """SELECT count(*) FROM contacts WHERE account_id = $1
               AND name = 'Pessoa ' || (array_position($2::bigint[], id)) || ' Souza'""",
            account.account_id,
            ids,
        )
        batches = await conn.fetchval(
            "SELECT count(*) FROM bulk_apply_batches WHERE account_id = $1 AND import_id = $2",
            account.account_id,
            import_id,
        )
    finally:
        await conn.close()
    rows = len(ids)
    return ExactlyOnce(
        changes=int(log["changes"]),
        distinct_cells=int(log["cells"]),
        distinct_rows=int(log["distinct_rows"]),
        rows_in_order=(log["first_row"], log["last_row"]) == (2, rows + 1),
        versions={int(v["version"]): int(v["n"]) for v in versions},
        names_right=int(names_right),
        batches_applied=int(batches),
    )


async def readyz_status(url: str) -> int | None:
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            return (await http.get(f"{url}/readyz")).status_code
    except httpx.HTTPError:
        return None


# --- exports and the object store ---------------------------------------------------


def s3_client():  # type: ignore[no-untyped-def]
    return create_client(S3Settings(endpoint=S3_ENDPOINT))


def objects_under(bucket: str, prefix: str) -> list[tuple[str, int]]:
    """(key, size) of every object visible under `prefix`."""
    client = s3_client()
    if not client.bucket_exists(bucket):
        return []
    return [(o.object_name, o.size or 0) for o in client.list_objects(bucket, prefix=prefix, recursive=True)]


def uploads_under(bucket: str, prefix: str) -> list[str]:
    """Multipart uploads begun and neither completed nor aborted under `prefix` (their
    parts are stored, though invisible as objects)."""
    client = s3_client()
    if not client.bucket_exists(bucket):
        return []
    result = client._list_multipart_uploads(bucket, prefix=prefix)
    return [u.upload_id for u in result.uploads]


async def request_export(stack: Stack, account: Account, body: dict[str, Any]) -> str:
    async with httpx.AsyncClient(headers=account.headers, timeout=30) as http:
        response = await http.post(f"{stack.export.url}/v1/exports", json=body)
        assert response.status_code == 202, response.text
        return str(response.json()["export_id"])


async def export_row(stack: Stack, export_id: str) -> dict[str, Any]:
    """The export's row straight from the export database (answers while the service is dead)."""
    conn = await asyncpg.connect(stack.dsn("export"))
    try:
        row = await conn.fetchrow("SELECT * FROM exports WHERE export_id = $1::uuid", export_id)
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


async def count_events(bootstrap: str, topic: str, key: str) -> int:
    """How many records of `topic` carry the job id `key`, from the topic's beginning to
    its current end (no consumer group)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found = 0
        while True:
            behind = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
            if not behind:
                return found
            batch = await consumer.getmany(*behind, timeout_ms=1000)
            for records in batch.values():
                found += sum(1 for r in records if r.key == key.encode())
    finally:
        await consumer.stop()
