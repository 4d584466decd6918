"""The importer end to end on the bench contacts: prepare, validate and apply throughput,
the importer's peak RSS, and apply against a COPY + one UPDATE … FROM of the same changes.

    .venv/bin/python -m bench.importer_end_to_end [--csv-rows 1000000] [--xlsx-rows 100000]

Needs the stack running and `bench/contacts_seed.py` run once. The contacts database is
not written: the bench clones it (`CREATE DATABASE … TEMPLATE crm_contacts_bench`, which
needs no other session on it) and drops the clone at the end; the importer gets a fresh
database. Both services run as processes (`python -m services.contacts|importer`) with
the tests' environment (tests/support/stack.py).

The files are what the export writes (its CsvExportWriter / XlsxExportWriter over the
bench account's contacts, in id order), with `--edit-fraction` of the rows' job title
changed so that apply has work. Each import: POST /v1/imports → `prepared`, confirm every
field → `validated`, start → `completed`, each phase timed by polling its state (0.2 s).
Baseline, same run, same database: the same new job titles COPYed into a temp table and
applied with one `UPDATE contacts … FROM` inside a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil

from bench.contacts_seed import BENCH_ACCOUNT, BENCH_DATABASE
from bench.stored_files import remove_under
from services.contacts.adapters import accounts_store, contact_reads
from services.contacts.config import ContactsPostgres
from services.contacts.domain.contact_filter import filter_where
from services.export.domain.columns import build_columns
from services.export.domain.csv_writer import CsvExportWriter
from services.export.domain.xlsx_writer import XlsxExportWriter
from shared.contacts_api import ContactRecord
from shared.postgres import init_connection
from shared.selection import ContactFilter
from shared.settings import S3Settings
from tests.support.stack import ServiceProcess, free_port, service_env

CLONE = f"{BENCH_DATABASE}_import"
NOT_WRITTEN = {"id", "created_at", "updated_at"}
POLL_S = 0.2


@dataclass
class Edits:
    """contact id → new job title, per file, for the baseline."""

    csv_titles: dict[int, str] = field(default_factory=dict)
    xlsx_titles: dict[int, str] = field(default_factory=dict)


@dataclass
class Phase:
    name: str
    seconds: float
    rows: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class RssSampler(threading.Thread):
    """Peak RSS of a process and its children, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stopped = threading.Event()

    def reset(self) -> int:
        peak, self.peak = self.peak, 0
        return peak

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            try:
                rss = self.process.memory_info().rss + sum(
                    c.memory_info().rss for c in self.process.children(recursive=True)
                )
            except psutil.Error:
                continue
            self.peak = max(self.peak, rss)


def dsn(database: str) -> str:
    return ContactsPostgres(database=database).dsn()


async def clone_bench_database(source: str) -> None:
    admin = await asyncpg.connect(dsn("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{CLONE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{CLONE}" TEMPLATE "{source}"')
    finally:
        await admin.close()


async def drop_databases(*names: str) -> None:
    admin = await asyncpg.connect(dsn("postgres"))
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def contacts_of(conn: asyncpg.Connection, account_id: int, limit: int) -> AsyncIterator[ContactRecord]:
    rules, timezone = await accounts_store.account_rules(conn, account_id)
    where = filter_where(account_id, ContactFilter(), rules.custom_fields, timezone)
    n = 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for record in contact_reads.stream(conn, where):
            yield record
            n += 1
            if n >= limit:
                return


async def write_files(
    conn: asyncpg.Connection, account_id: int, folder: Path, csv_rows: int, xlsx_rows: int, fraction: float
) -> tuple[Path, Path, Edits, list[str]]:
    """The export's CSV of the first `csv_rows` contacts and XLSX of the `xlsx_rows`
    after them (disjoint, so that the CSV import's changes do not make the XLSX rows
    stale), with `fraction` of the job titles edited in each."""
    context = await accounts_store.account_context(conn, account_id)
    columns = build_columns(context, "pt-BR")
    csv_writer = CsvExportWriter(columns, context)
    xlsx_writer = XlsxExportWriter(columns, context, uuid.uuid4())
    rng = random.Random(5)
    edits = Edits()
    csv_path, xlsx_path = folder / "bench.csv", folder / "bench.xlsx"
    batch: list[ContactRecord] = []
    seen = 0
    with csv_path.open("wb") as csv_file, xlsx_path.open("wb") as xlsx_file:

        def flush() -> None:
            writer, file = (csv_writer, csv_file) if seen <= csv_rows else (xlsx_writer, xlsx_file)
            for chunk in writer.write_rows(batch):
                file.write(chunk)
            batch.clear()

        async for record in contacts_of(conn, account_id, csv_rows + xlsx_rows):
            seen += 1
            titles = edits.csv_titles if seen <= csv_rows else edits.xlsx_titles
            if rng.random() < fraction:
                title = f"Coordenação {rng.randrange(1000)}"
                titles[record.id] = title
                record = record.model_copy(update={"job_title": title})
            batch.append(record)
            if len(batch) == 5000 or seen == csv_rows:
                flush()
        flush()
        for chunk in csv_writer.close():
            csv_file.write(chunk)
        for chunk in xlsx_writer.close():
            xlsx_file.write(chunk)
    fields = [c.field.key for c in columns if c.field.key not in NOT_WRITTEN]
    return csv_path, xlsx_path, edits, fields


async def baseline(conn: asyncpg.Connection, account_id: int, titles: dict[int, str]) -> float:
    """COPY the new job titles into a temp table + one UPDATE … FROM; rolled back."""
    rows = list(titles.items())
    started = time.perf_counter()
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("CREATE TEMP TABLE bench_changes (id bigint PRIMARY KEY, job_title text) ON COMMIT DROP")
        await conn.copy_records_to_table("bench_changes", records=rows)
        await conn.execute(
            "UPDATE contacts c SET job_title = b.job_title, updated_at = now(), version = c.version + 1 "
            "FROM bench_changes b WHERE c.account_id = $1 AND c.id = b.id",
            account_id,
        )
        return time.perf_counter() - started
    finally:
        await tx.rollback()


async def wait_state(http: httpx.AsyncClient, url: str, states: tuple[str, ...], timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = (await http.get(url)).json()
        if view.get("state") in states:
            return view  # type: ignore[no-any-return]
        await asyncio.sleep(POLL_S)
    raise TimeoutError(f"{url} not in {states} after {timeout_s} s")


async def run_import(
    http: httpx.AsyncClient, importer_url: str, path: Path, fields: list[str], sampler: RssSampler, label: str
) -> tuple[list[Phase], dict, int]:
    phases = []
    sampler.reset()
    started = time.perf_counter()
    with path.open("rb") as file:
        response = await http.post(f"{importer_url}/v1/imports", files={"file": (path.name, file)}, timeout=3600)
    response.raise_for_status()
    import_id = response.json()["import_id"]
    url = f"{importer_url}/v1/imports/{import_id}"
    view = await wait_state(http, url, ("prepared", "failed"), 3600)
    rows = (view.get("sheet") or {}).get("row_count") or 0
    phases.append(Phase(f"{label} prepare", time.perf_counter() - started, rows))
    started = time.perf_counter()
    (await http.post(f"{url}/confirm", json={"fields": fields, "tag": "bench-import"})).raise_for_status()
    view = await wait_state(http, url, ("validated", "failed"), 3600)
    phases.append(Phase(f"{label} validate", time.perf_counter() - started, rows))
    started = time.perf_counter()
    (await http.post(f"{url}/start")).raise_for_status()
    view = await wait_state(http, url, ("completed", "completed_with_errors", "failed"), 3600)
    counts = view.get("counts") or {}
    applied = (counts.get("to_update") or 0) + (counts.get("to_create") or 0)
    phases.append(Phase(f"{label} apply", time.perf_counter() - started, applied))
    return phases, view, sampler.reset()


async def main(args: argparse.Namespace) -> None:
    run_id = uuid.uuid4().hex[:8]
    await clone_bench_database(args.source_database)
    importer_db = f"crm_importer_bench_{run_id}"
    contacts_port, importer_port = free_port(), free_port()
    contacts_url = f"http://127.0.0.1:{contacts_port}"
    logs = Path(args.logs)
    contacts_env = service_env("contacts", contacts_port, contacts_url, run_id) | {"CONTACTS_POSTGRES__DATABASE": CLONE}
    importer_env = service_env("importer", importer_port, contacts_url, run_id) | {
        "IMPORTER_POSTGRES__DATABASE": importer_db,
        # The bench account's 1M-row CSV is ~310 MB (long notes); the default limit is 200 MB.
        "IMPORTER_MAX_UPLOAD_BYTES": str(1 << 30),
    }
    contacts = ServiceProcess("contacts", contacts_port, contacts_env, logs / "bench-contacts.log")
    importer = ServiceProcess("importer", importer_port, importer_env, logs / "bench-importer.log")
    conn = await asyncpg.connect(dsn(CLONE))
    await init_connection(conn)
    try:
        account_id = await accounts_store.find_account_by_name(conn, BENCH_ACCOUNT)
        assert account_id is not None, "run bench/contacts_seed.py first"
        _, token = await accounts_store.issue_token(conn, account_id, label="bench")
        folder = Path(args.folder)
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        print("writing the files…", flush=True)
        # The XLSX rows follow the CSV's: as many as the account still has after them (run
        # `--csv-rows 0` for an XLSX of the first contacts).
        held = await conn.fetchval("SELECT count(*) FROM contacts WHERE account_id = $1", account_id)
        xlsx = max(0, min(args.xlsx_rows, held - args.csv_rows))
        if xlsx < args.xlsx_rows:
            print(f"the account holds {held:,} contacts: the XLSX gets {xlsx:,} rows after the CSV's", flush=True)
        csv_path, xlsx_path, edits, fields = await write_files(
            conn, account_id, folder, args.csv_rows, xlsx, args.edit_fraction
        )
        contacts.start()
        importer.start()
        assert importer.process is not None
        sampler = RssSampler(importer.process.pid)
        sampler.start()
        idle_rss = psutil.Process(importer.process.pid).memory_info().rss
        results: list[tuple[list[Phase], dict, int, float]] = []
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            files = (("CSV", csv_path, edits.csv_titles, args.csv_rows), ("XLSX", xlsx_path, edits.xlsx_titles, xlsx))
            for label, path, titles, rows in files:
                if not rows:
                    continue
                base_s = await baseline(conn, account_id, titles)
                print(f"{label}: baseline {len(titles):,} rows in {base_s:.2f} s", flush=True)
                phases, view, peak = await run_import(http, importer.url, path, fields, sampler, label)
                print(f"{label}: {[(p.name, round(p.seconds, 1)) for p in phases]} state {view['state']}", flush=True)
                results.append((phases, view, peak, base_s))
        sampler.stopped.set()
    finally:
        await conn.close()
        importer.stop()
        contacts.stop()
        if not args.keep:
            await drop_databases(CLONE, importer_db)
    if not args.keep:  # the uploaded files (~310 MB for the CSV)
        for _phases, view, _peak, _base in results:
            await remove_under(S3Settings().bucket, f"imports/{account_id}/{view.get('import_id')}/")
    print(
        f"\nimporter idle RSS {idle_rss / 2**20:.0f} MiB; file sizes: CSV {csv_path.stat().st_size / 2**20:.0f} MiB, "
        f"XLSX {xlsx_path.stat().st_size / 2**20:.0f} MiB"
    )
    print("| phase | rows | s | rows/s | peak RSS MiB | apply / COPY+UPDATE |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for phases, _view, peak, base_s in results:
        for phase in phases:
            ratio = f"{phase.seconds / base_s:.1f}×" if phase.name.endswith("apply") else ""
            print(
                f"| {phase.name} | {phase.rows:,} | {phase.seconds:.1f} | {phase.rate:,.0f} | "
                f"{peak / 2**20:.0f} | {ratio} |"
            )
    for phases, view, _peak, _base in results:
        print(phases[0].name.split()[0], "counts:", view.get("counts"))
    # Where the service says its time went (validate_import's and apply_import's phase lines).
    ids = [str(view.get("import_id")) for _phases, view, _peak, _base in results]
    for line in importer.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if any(i in line for i in ids) and ("rows validated;" in line or "batches applied;" in line):
            print(line.split(": ", 1)[-1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument(
        "--source-database",
        default=BENCH_DATABASE,
        help="the database to clone (a copy of the bench database, when another session holds that one open)",
    )
    parser.add_argument("--edit-fraction", type=float, default=0.1)
    parser.add_argument("--folder", default="/tmp/crm-bulk-bench", help="where the files are written")
    parser.add_argument("--logs", default="/tmp/crm-bulk-bench/logs")
    parser.add_argument("--keep", action="store_true", help="keep the cloned and importer databases")
    asyncio.run(main(parser.parse_args()))
