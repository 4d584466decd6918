"""End-to-end export speed and memory: the contacts and export services as processes,
an export request on Kafka, the time until its ready event.

    .venv/bin/python bench/contacts_seed.py --contacts 1000000      # once
    .venv/bin/python bench/export_end_to_end.py                     # ~3 min
    .venv/bin/python bench/export_end_to_end.py --tree before=/tmp/crm-bulk-before --tree after=.

Scenarios: CSV of the 100k account ("Bench other", `all`), CSV of the 1M account
("Bench", `all`), XLSX of the 100k account. Each export runs in a freshly started export
service (so that its peak RSS is that export's), sampled every 50 ms. The baseline is
`COPY (SELECT <the stream's columns> FROM contacts WHERE account_id = $1 ORDER BY id) TO
STDOUT` of the same rows into a null sink, through asyncpg, timed in the same run just
before each scenario (median of three): figures are given as ratios to it, since the
machine is shared and noisy.

The CPU columns are the two service processes'; PostgreSQL's own CPU is in neither, and
since CSV rows are formatted in PostgreSQL (services/contacts/domain/csv_rendition.py)
it is most of a CSV export's: compare the times.

`--tree label=path` runs the services from another source tree (e.g. `git archive HEAD`
unpacked in /tmp) with the same venv, so that before and after are measured in one run;
`--rounds N` alternates the trees N times (each round has its own baseline) and reports
each tree's best round and every round's ratio. Each export's file is removed from the
object store once measured. `--write-docs` puts the table into docs/benchmarks.md,
section `## Export service`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.contacts_seed import BENCH_ACCOUNT, BENCH_DATABASE
from bench.stored_files import remove_under
from services.contacts.adapters.contact_reads import CONTACT_COLUMNS
from services.contacts.config import ContactsPostgres
from shared import topics
from shared.cloudevents import event_body, kafka_headers, make_event
from shared.events import ExportFormat, ExportRequested
from shared.selection import Selection
from tests.support.stack import INTERNAL_TOKEN, KAFKA_BOOTSTRAP, free_port, service_env

ROOT = Path(__file__).resolve().parents[1]
SMALL_ACCOUNT = "Bench other"
EXPORT_DATABASE = "crm_export_bench"
CONSUMER_GROUP = "crm-bulk-export-bench"
SAMPLE_EVERY_S = 0.05
COPY_RUNS = 3
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Export service"
FIGURES_START = "<!-- bench/export_end_to_end.py: figures start -->"
FIGURES_END = "<!-- bench/export_end_to_end.py: figures end -->"


@dataclass(frozen=True)
class Scenario:
    name: str
    account: str
    format: ExportFormat
    # Only the account's first contact (by ids): the fixed cost of an export, i.e. the
    # Kafka round trip, the account context, the upload and the ready event.
    first_only: bool = False


SCENARIOS = (
    Scenario("CSV 1 row", SMALL_ACCOUNT, ExportFormat.CSV, first_only=True),
    Scenario("CSV 100k", SMALL_ACCOUNT, ExportFormat.CSV),
    Scenario("CSV 1M", BENCH_ACCOUNT, ExportFormat.CSV),
    Scenario("XLSX 100k", SMALL_ACCOUNT, ExportFormat.XLSX),
)


@dataclass
class Run:
    seconds: float
    rows: int
    peak_rss: int
    first_half_peak_rss: int
    idle_rss: int
    export_cpu_s: float
    contacts_cpu_s: float
    size_bytes: int
    disturbed: bool


@dataclass
class Result:
    tree: str
    scenario: Scenario
    rows: int
    seconds: float
    copy_seconds: float
    peak_rss: int
    first_half_peak_rss: int
    idle_rss: int
    export_cpu_s: float
    contacts_cpu_s: float
    size_bytes: int
    disturbed: bool

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    @property
    def ratio(self) -> float:
        return self.seconds / self.copy_seconds


class Service:
    """`python -m services.<name>` from a source tree, with the bench's environment."""

    def __init__(self, name: str, tree: Path, env: dict[str, str], port: int, log: Path) -> None:
        self.name, self.tree, self.env, self.port, self.log_path = name, tree, env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> Service:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            cwd=self.tree,
            env={**os.environ, **self.env, "PYTHONPATH": str(self.tree)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready in {timeout_s} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class RssSampler:
    """The peak resident set of one process, sampled from a thread."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = 0
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self.peak = self._process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def first_half_peak(self) -> int:
        """The peak of the first half of the run: memory that stays flat while rows flow
        has the same peak in both halves."""
        return max(self.samples[: max(1, len(self.samples) // 2)], default=self.peak)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            rss = self._process.memory_info().rss
            self.samples.append(rss)
            self.peak = max(self.peak, rss)


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


async def copy_seconds(pool: asyncpg.Pool, account_id: int, first_only: bool) -> float:
    """Median time of COPY of the account's rows (the stream's columns, id order) to a null sink."""
    query = f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE account_id = $1 ORDER BY id"
    if first_only:
        query += " LIMIT 1"

    async def discard(_: bytes) -> None:
        return None

    timings = []
    async with pool.acquire() as conn:
        for _ in range(COPY_RUNS):
            started = time.perf_counter()
            await conn.copy_from_query(query, account_id, output=discard)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


async def new_consumer_group() -> str:
    """A consumer group of its own for one export service, committed at the end of the
    request topic, so that it never works through requests published before it."""
    group = f"{CONSUMER_GROUP}-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        topic = topics.EXPORT_REQUESTED
        partitions = [TopicPartition(topic, p) for p in await _partitions(consumer, topic)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        await consumer.commit({tp: await consumer.position(tp) for tp in partitions})
    finally:
        await consumer.stop()
    return group


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} does not exist")


async def watch_from_end(watched: tuple[str, ...]) -> AIOKafkaConsumer:
    """A consumer of the given topics from their current end, without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(t, p) for t in watched for p in await _partitions(consumer, t)]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:  # resolve the end offsets now, before the request is published
        await consumer.position(tp)
    return consumer


async def fresh_export_database() -> None:
    admin = await asyncpg.connect(ContactsPostgres(database="postgres").dsn())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{EXPORT_DATABASE}" WITH (FORCE)')
    finally:
        await admin.close()


async def announced_by_bench_service(
    exports: asyncpg.Pool, export_id: uuid.UUID, topic: str, outcome: dict[str, Any]
) -> bool:
    row = await exports.fetchrow("SELECT state, object_key FROM exports WHERE export_id = $1", export_id)
    if row is None:
        return False
    if topic == topics.EXPORT_READY:
        return bool(row["state"] == "ready" and row["object_key"] == outcome["data"]["object_key"])
    return bool(row["state"] == "failed")


async def run_export(
    export: Service,
    contacts: Service,
    exports: asyncpg.Pool,
    producer: AIOKafkaProducer,
    account_id: int,
    scenario: Scenario,
    first_id: int,
) -> Run:
    assert export.process is not None and contacts.process is not None
    request = ExportRequested(
        account_id=account_id,
        export_id=uuid.uuid4(),
        requested_by="bench@example.com.br",
        format=scenario.format,
        selection=Selection(ids=[first_id]) if scenario.first_only else Selection(all=True),
    )
    key = str(request.export_id)
    event = make_event("/crm-bulk/bench", topics.EXPORT_REQUESTED, key, request)
    headers = [(k, v.encode()) for k, v in kafka_headers().items()]
    watched = (topics.EXPORT_READY, topics.EXPORT_FAILED, topics.EXPORT_REQUESTED)
    consumer = await watch_from_end(watched)
    disturbed = False
    try:
        export_cpu, contacts_cpu = cpu_seconds(export.process.pid), cpu_seconds(contacts.process.pid)
        with RssSampler(export.process.pid) as rss:
            idle = rss.peak
            started = time.perf_counter()
            await producer.send_and_wait(topics.EXPORT_REQUESTED, event_body(event), key=key.encode(), headers=headers)
            async for record in consumer:
                if record.topic == topics.EXPORT_REQUESTED:
                    # Someone else's request on the shared topic would share the service's time.
                    disturbed |= record.key != key.encode()
                elif record.key == key.encode():
                    outcome = json.loads(record.value or b"")
                    if await announced_by_bench_service(exports, request.export_id, record.topic, outcome):
                        break
                    # Any export service (another group, e.g. a test run's) answers every
                    # request of the shared topic: only the bench service's answer counts.
                    disturbed = True
            elapsed = time.perf_counter() - started
        export_cpu = cpu_seconds(export.process.pid) - export_cpu
        contacts_cpu = cpu_seconds(contacts.process.pid) - contacts_cpu
    finally:
        await consumer.stop()
    if record.topic != topics.EXPORT_READY:
        raise RuntimeError(f"export failed: {outcome['data']}")
    data = outcome["data"]
    await remove_under(data["bucket"], data["object_key"].rpartition("/")[0] + "/")
    return Run(
        elapsed,
        data["row_count"],
        rss.peak,
        rss.first_half_peak,
        idle,
        export_cpu,
        contacts_cpu,
        data["size_bytes"],
        disturbed,
    )


async def bench_tree(label: str, tree: Path, scenarios: tuple[Scenario, ...], repeat: int, logs: Path) -> list[Result]:
    contacts_port, export_port = free_port(), free_port()
    contacts_url = f"http://127.0.0.1:{contacts_port}"
    run_id = uuid.uuid4().hex[:8]
    contacts_env = service_env("contacts", contacts_port, contacts_url, run_id)
    contacts_env["CONTACTS_POSTGRES__DATABASE"] = BENCH_DATABASE
    contacts_env["CONTACTS_CONSUMER_GROUP"] = "crm-bulk-contacts-bench"
    export_env = service_env("export", export_port, contacts_url, run_id)
    export_env["EXPORT_POSTGRES__DATABASE"] = EXPORT_DATABASE
    assert export_env["EXPORT_CONTACTS_API__INTERNAL_TOKEN"] == INTERNAL_TOKEN
    await fresh_export_database()
    pool = await asyncpg.create_pool(ContactsPostgres(database=BENCH_DATABASE).dsn(), min_size=1, max_size=1)
    assert pool is not None
    accounts = {r["name"]: r["id"] for r in await pool.fetch("SELECT id, name FROM accounts")}
    contacts = Service("contacts", tree, contacts_env, contacts_port, logs / f"{label}-contacts.log").start()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all")
    await producer.start()
    results = []
    exports: asyncpg.Pool | None = None
    try:
        for scenario in scenarios:
            account_id = accounts[scenario.account]
            baseline = await copy_seconds(pool, account_id, scenario.first_only)
            first_id = await pool.fetchval("SELECT min(id) FROM contacts WHERE account_id = $1", account_id)
            runs = []
            for _ in range(repeat):
                export_env["EXPORT_CONSUMER_GROUP"] = await new_consumer_group()
                export = Service("export", tree, export_env, export_port, logs / f"{label}-export.log").start()
                try:
                    if exports is None:  # the export service made its database
                        exports = await asyncpg.create_pool(
                            ContactsPostgres(database=EXPORT_DATABASE).dsn(), min_size=1, max_size=1
                        )
                    assert exports is not None
                    runs.append(await run_export(export, contacts, exports, producer, account_id, scenario, first_id))
                finally:
                    export.stop()
            best = min(runs, key=lambda r: r.seconds)
            result = Result(
                label,
                scenario,
                best.rows,
                best.seconds,
                baseline,
                max(r.peak_rss for r in runs),
                max(r.first_half_peak_rss for r in runs),
                best.idle_rss,
                best.export_cpu_s,
                best.contacts_cpu_s,
                best.size_bytes,
                any(r.disturbed for r in runs),
            )
            print(
                f"  {label:>8} {scenario.name:<10} {result.seconds:7.2f} s  COPY {baseline:5.2f} s  "
                f"{result.rows_per_s:9,.0f} rows/s  peak RSS {result.peak_rss / 2**20:6.1f} MB "
                f"(idle {result.idle_rss / 2**20:.0f} MB)",
                flush=True,
            )
            results.append(result)
    finally:
        await producer.stop()
        contacts.stop()
        await pool.close()
        if exports is not None:
            await exports.close()
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| tree | export | rows | time | rows/s | COPY time | time / COPY | peak RSS | peak RSS, 1st half "
        "| export CPU | contacts CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        flag = " (disturbed)" if r.disturbed else ""
        lines.append(
            f"| {r.tree} | {r.scenario.name}{flag} | {r.rows:,} | {r.seconds:.2f} s | {r.rows_per_s:,.0f} | "
            f"{r.copy_seconds:.2f} s | {r.ratio:.1f}× | {r.peak_rss / 2**20:.0f} MB | "
            f"{r.first_half_peak_rss / 2**20:.0f} MB | "
            f"{r.export_cpu_s:.1f} s | {r.contacts_cpu_s:.1f} s |"
        )
    return "\n".join(lines)


def write_docs(figures: str) -> None:
    """Puts the figures between the markers of the `## Export service` section of
    docs/benchmarks.md (made at the end when missing), leaving the rest of the file and
    of the section (the prose around the figures) as it is; atomically."""
    block = f"{FIGURES_START}\n{figures.strip()}\n{FIGURES_END}"
    text = DOCS.read_text(encoding="utf-8")
    start = text.find(f"\n{SECTION}\n")
    if start < 0:
        new = f"{text.rstrip()}\n\n{SECTION}\n\n{block}\n"
    else:
        end = text.find("\n## ", start + 1)
        end = len(text) if end < 0 else end
        section = text[start:end]
        if FIGURES_START in section and FIGURES_END in section:
            before, rest = section.split(FIGURES_START, 1)
            section = before + block + rest.split(FIGURES_END, 1)[1]
        else:
            section = section.rstrip("\n") + f"\n\n{block}\n"
        new = text[:start] + section + text[end:]
    temporary = DOCS.with_suffix(".md.tmp")
    temporary.write_text(new, encoding="utf-8")
    os.replace(temporary, DOCS)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tree", action="append", default=[], help="label=path of a source tree (default: this one)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per scenario (the fastest counts)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="rounds over every tree, alternating (the round with the lowest time / COPY counts): "
        "the machine's load drifts over minutes, so before and after are best compared round by round",
    )
    parser.add_argument("--only", action="append", default=[], help="scenario names to run, e.g. 'CSV 1M'")
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    trees = [(label, Path(path).resolve()) for label, path in (t.split("=", 1) for t in args.tree)]
    scenarios = tuple(s for s in SCENARIOS if not args.only or s.name in args.only)
    logs = Path("/tmp/crm-bulk-bench-logs")
    logs.mkdir(exist_ok=True)
    results: list[Result] = []
    for round_number in range(args.rounds):
        for label, path in trees or [("current", ROOT)]:
            print(f"round {round_number + 1}, {label}: {path}", flush=True)
            results += asyncio.run(bench_tree(label, path, scenarios, args.repeat, logs))
    best: dict[tuple[str, str], Result] = {}
    for result in results:
        key = (result.tree, result.scenario.name)
        if key not in best or result.ratio < best[key].ratio:
            best[key] = result
    rendered = table(list(best.values()))
    if args.rounds > 1:
        by_round = "\n".join(
            f"- {tree}, {name}: time / COPY by round "
            + ", ".join(f"{r.ratio:.2f}×" for r in results if (r.tree, r.scenario.name) == (tree, name))
            for tree, name in best
        )
        rendered += f"\n\n{by_round}"
    print()
    print(rendered)
    if args.write_docs:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        runs = f"best of {args.repeat} per scenario" + (f", best of {args.rounds} rounds" if args.rounds > 1 else "")
        write_docs(f"Run of {when} UTC, {runs}:\n\n{rendered}")


if __name__ == "__main__":
    main()
