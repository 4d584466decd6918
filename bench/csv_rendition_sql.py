"""PostgreSQL's side of a CSV export alone: COPY of the rendition's statement against a
raw COPY of the same rows, on one connection, into a null sink.

    .venv/bin/python -m bench.csv_rendition_sql                 # the 1M "Bench" account
    .venv/bin/python -m bench.csv_rendition_sql --rows 200000 --repeat 5 --checked

Against the bench database of bench/contacts_seed.py. Per round, alternating: the
baseline of bench/export_end_to_end.py (`COPY (SELECT <the stream's columns> FROM
contacts WHERE account_id = $1 ORDER BY id) TO STDOUT`), then COPY (FORMAT csv) of the
statement services/contacts/domain/csv_rendition.py compiles for the export's plan of
every column (as services/export/domain/csv_plan.py builds it), in pt-BR and en, in a
transaction with the settings the contacts service sets. Medians of `--repeat` rounds:
wall time, and the backend's CPU time (read from /proc: the server runs on this
machine), both as ratios to the baseline's. `--rows N` takes the account's first N
contacts (an id range, as a part of the split stream is). `--rendition label=path` adds
another csv_rendition.py (e.g. the code before a change, from a `git archive` tree) to
the same rounds, so that before and after are timed side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.contacts_seed import BENCH_ACCOUNT, BENCH_DATABASE
from services.contacts.adapters import accounts_store
from services.contacts.adapters.contact_reads import CONTACT_COLUMNS, CSV_ROWS_SETTINGS
from services.contacts.config import ContactsPostgres
from services.contacts.domain.contact_filter import selection_where
from services.contacts.domain.csv_rendition import CsvRowsQuery
from services.contacts.service_layer import selection_reads
from services.export.domain.columns import build_columns
from services.export.domain.csv_plan import csv_rows_plan
from shared.postgres import init_connection
from shared.selection import Selection

LOCALES = ("pt-BR", "en")


@dataclass(frozen=True)
class Timing:
    seconds: float
    backend_cpu_s: float


@dataclass(frozen=True)
class Statement:
    """One COPY to time: its SELECT, parameters, COPY options and SET LOCAL settings."""

    label: str
    sql: str
    params: tuple[object, ...]
    settings: dict[str, str]
    csv_delimiter: str | None = None


async def _discard(_: bytes) -> None:
    return None


def cpu_seconds(process: psutil.Process) -> float:
    """The process's time on a CPU: from /proc/<pid>/schedstat in nanoseconds where the
    kernel has it, else from its user and system times (ticks of 10 ms)."""
    try:
        with open(f"/proc/{process.pid}/schedstat", encoding="ascii") as schedstat:
            return int(schedstat.read().split()[0]) / 1e9
    except OSError:
        times = process.cpu_times()
        return float(times.user + times.system)


async def timed_copy(conn: asyncpg.Connection, backend: psutil.Process, statement: Statement) -> Timing:
    """Wall and backend CPU time of the statement's COPY into a null sink."""
    options = {} if statement.csv_delimiter is None else {"format": "csv", "delimiter": statement.csv_delimiter}
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        for name, value in statement.settings.items():
            await conn.execute("SELECT set_config($1, $2, true)", name, value)
        cpu = cpu_seconds(backend)
        started = time.perf_counter()
        await conn.copy_from_query(statement.sql, *statement.params, output=_discard, **options)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(backend) - cpu
    return Timing(elapsed, cpu)


async def backend_process(conn: asyncpg.Connection) -> psutil.Process:
    return psutil.Process(await conn.fetchval("SELECT pg_backend_pid()"))


async def bench_account(conn: asyncpg.Connection, rows: int | None) -> tuple[int, int | None]:
    """The bench account's id, and the id of its `rows`-th contact (None: all of them)."""
    account_id = await conn.fetchval("SELECT id FROM accounts WHERE name = $1", BENCH_ACCOUNT)
    if account_id is None:
        raise SystemExit(f"no account {BENCH_ACCOUNT!r} in {BENCH_DATABASE}: run bench/contacts_seed.py first")
    if rows is None:
        return account_id, None
    up_to = await conn.fetchval(
        "SELECT id FROM contacts WHERE account_id = $1 ORDER BY id OFFSET $2 LIMIT 1", account_id, rows - 1
    )
    return account_id, up_to


def baseline(account_id: int, up_to: int | None) -> Statement:
    """bench/export_end_to_end.py's baseline, within the same id range."""
    bound = "" if up_to is None else f" AND id <= {int(up_to)}"
    sql = f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE account_id = $1{bound} ORDER BY id"
    return Statement("COPY (raw)", sql, (account_id,), {})


async def rendition_query(
    conn: asyncpg.Connection, account_id: int, locale: str, module: ModuleType | None = None
) -> CsvRowsQuery:
    """The statement the contacts service runs for the export's plan of every column;
    compiled by `module`'s csv_rows_query when given (another csv_rendition.py)."""
    context = await accounts_store.account_context(conn, account_id)
    plan = csv_rows_plan(Selection(all=True), build_columns(context, locale), context, locale)
    if module is None:
        return await selection_reads.csv_rows_for(conn, account_id, plan)
    rules, timezone = await accounts_store.account_rules(conn, account_id)
    where = selection_where(account_id, plan.selection, rules.custom_fields, timezone)
    query: CsvRowsQuery = module.csv_rows_query(plan, where, rules.custom_fields)
    return query


def load_rendition(label: str, path: str) -> ModuleType:
    """Another csv_rendition.py, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"bench_rendition_{label}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def rendition(label: str, query: CsvRowsQuery, up_to: int | None, checked: bool = False) -> Statement:
    part = query.within(None, up_to)
    sql = part.checked_sql(0) if checked else part.sql
    return Statement(label, sql, query.params, {**CSV_ROWS_SETTINGS, **query.settings}, query.delimiter)


async def run(
    statements: list[Statement], repeat: int, conn: asyncpg.Connection, backend: psutil.Process
) -> dict[str, list[Timing]]:
    """Every statement once a round, in order, `repeat` rounds."""
    timings: dict[str, list[Timing]] = {s.label: [] for s in statements}
    for round_number in range(repeat):
        for statement in statements:
            timing = await timed_copy(conn, backend, statement)
            timings[statement.label].append(timing)
            print(
                f"  round {round_number + 1}: {statement.label:<26} {timing.seconds:6.2f} s  "
                f"backend CPU {timing.backend_cpu_s:6.2f} s",
                flush=True,
            )
    return timings


def report(timings: dict[str, list[Timing]], rows: int) -> str:
    base_label = next(iter(timings))
    base_s = statistics.median(t.seconds for t in timings[base_label])
    base_cpu = statistics.median(t.backend_cpu_s for t in timings[base_label])
    lines = [
        f"{'statement':<26} {'time':>8} {'/ COPY':>7} {'backend CPU':>12} {'/ COPY':>7} {'CPU µs/row':>11}",
    ]
    for label, runs in timings.items():
        seconds = statistics.median(t.seconds for t in runs)
        cpu = statistics.median(t.backend_cpu_s for t in runs)
        lines.append(
            f"{label:<26} {seconds:7.2f}s {seconds / base_s:6.2f}× {cpu:11.2f}s {cpu / base_cpu:6.2f}× "
            f"{cpu / rows * 1e6:11.2f}"
        )
    return "\n".join(lines)


def _load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


async def main(rows: int | None, repeat: int, checked: bool, others: list[tuple[str, ModuleType]]) -> None:
    conn = await asyncpg.connect(ContactsPostgres(database=BENCH_DATABASE).dsn())
    await init_connection(conn)  # jsonb parameters as the contacts service's pool sends them
    try:
        account_id, up_to = await bench_account(conn, rows)
        count = await conn.fetchval(
            "SELECT count(*) FROM contacts WHERE account_id = $1 AND ($2::bigint IS NULL OR id <= $2)",
            account_id,
            up_to,
        )
        statements = [baseline(account_id, up_to)]
        for label, module in [("rendition", None), *others]:
            for locale in LOCALES:
                query = await rendition_query(conn, account_id, locale, module)
                statements.append(rendition(f"{label} {locale}", query, up_to))
                if checked:
                    statements.append(rendition(f"{label} {locale} checked", query, up_to, checked=True))
        print(f"{count:,} contacts, median of {repeat}; before: {_load()}", flush=True)
        timings = await run(statements, repeat, conn, await backend_process(conn))
        print(f"after: {_load()}\n")
        print(report(timings, count))
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=None, help="only the account's first N contacts")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians are reported); at least 3")
    parser.add_argument("--checked", action="store_true", help="also the checked statement (every value checked)")
    parser.add_argument(
        "--rendition", action="append", default=[], help="label=path of another csv_rendition.py to time alongside"
    )
    arguments = parser.parse_args()
    if arguments.repeat < 3:
        parser.error("--repeat must be at least 3")
    if arguments.rows is not None and arguments.rows < 1:
        parser.error("--rows must be positive")
    others = [(label, load_rendition(label, path)) for label, path in (r.split("=", 1) for r in arguments.rendition)]
    asyncio.run(main(arguments.rows, arguments.repeat, arguments.checked, others))
