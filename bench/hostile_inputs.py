"""Time and memory of the importer on each hostile input, next to normal files.

    .venv/bin/python bench/hostile_inputs.py                 # ~1 min: corpus + 50k-row baselines
    .venv/bin/python bench/hostile_inputs.py --long          # + the 1 GiB CSV line and quoted field
    .venv/bin/python bench/hostile_inputs.py --write-docs    # the table into docs/reliability.md

Every file of the hostile corpus (tests/corpus/build_hostile.py) is read the way prepare
reads an upload (`sheet_analysis.summarise_sheet`: format detection, `open_sheet`, a full
pass over the rows with every check, the service's `ReaderLimits`), each in a fresh
process forked from a server that has already imported the importer, so that a figure is
that file's own: wall and CPU time of the read, peak RSS above the idle process (VmHWM,
reset at the fork), bytes read from disk. The same is measured on an export of 50,000
contacts (20 columns, `bench/export_writers.py`'s contacts) as CSV and as XLSX, in the
same run, and each input is given as a ratio to the baseline of its kind (CSV for a
`.csv`, XLSX otherwise), since the machine is shared and noisy.

`ReadingServer` is also what `tests/unit/importer/readers/test_reader_hostile.py` uses to
enforce the bounds: each child runs under an address-space cap and is killed at a
timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.corpus import build_hostile  # noqa: E402

DOCS = ROOT / "docs" / "reliability.md"
FIGURES_START = "<!-- bench/hostile_inputs.py: figures start -->"
FIGURES_END = "<!-- bench/hostile_inputs.py: figures end -->"
BASELINE_ROWS = 50_000
MIB = 1024 * 1024

# The bounds the suite enforces on every input of the corpus (test_reader_hostile.py):
# the read is killed at TIME_BOUND_S; allocations fail past MEMORY_CAP_MIB of address
# space above the idle process; the peak RSS above the idle process stays under the
# input's memory bound.
TIME_BOUND_S = 20.0
MEMORY_CAP_MIB = 512
MEMORY_BOUND_MIB = 64
# A CSV line of ReaderLimits.max_csv_line_chars (4 Mi) characters with a quote is parsed
# whole by the csv module: a list entry per field, an object per field that CPython does
# not intern (measured: ~54 bytes per character of the line, 225 MiB), the line itself.
# Without a quote such a line is checked first with str methods (csv_reader._narrowed).
# Nothing else in the corpus comes near.
MEMORY_BOUNDS_MIB = {"csv_widest_quoted_record": 256}


def memory_bound_mib(name: str) -> int:
    """The most a read of the corpus input `name` may add to the idle process's RSS."""
    return MEMORY_BOUNDS_MIB.get(name, MEMORY_BOUND_MIB)


@dataclass(frozen=True)
class Reading:
    """What reading one file in a fresh process came to."""

    outcome: str  # "ok", a FileRejected code, "timeout", or "crash"
    rows: int | None
    wall_s: float
    cpu_s: float
    peak_mib: float  # peak RSS above the idle process
    read_mib: float | None  # bytes the read took from disk (None: /proc/self/io unreadable)
    detail: str = ""  # the English message, or the crash's traceback

    @property
    def shown(self) -> str:
        if self.outcome == "ok":
            return f"ok, {self.rows:,} row{'s' if self.rows != 1 else ''}"
        return self.outcome if self.outcome not in ("crash", "timeout") else f"**{self.outcome}**"


# --- the reading server (a process that forks one child per file) ---------------------


class ReadingServer:
    """A child interpreter that imports the importer once, then reads each file it is
    sent in a process of its own (fork), under a timeout and an address-space cap."""

    def __init__(self, *, timeout_s: float = TIME_BOUND_S, cap_mib: int | None = MEMORY_CAP_MIB) -> None:
        self._timeout_s = timeout_s
        self._cap_mib = cap_mib
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.idle_mib = float(self._receive()["idle_mib"])

    def read(self, path: Path) -> Reading:
        assert self._process.stdin is not None
        request = {"path": str(path), "timeout_s": self._timeout_s, "cap_mib": self._cap_mib}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        return Reading(**self._receive())

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait(timeout=30)

    def __enter__(self) -> ReadingServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _receive(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the reading server exited ({self._process.wait()})")
        return json.loads(line)  # type: ignore[no-any-return]


def _serve() -> None:
    from services.importer.config import ImporterSettings
    from services.importer.domain.readers import ReaderLimits
    from services.importer.service_layer.sheet_analysis import summarise_sheet

    defaults = {name: field.default for name, field in ImporterSettings.model_fields.items()}
    # As bootstrap.py builds them (environment overrides left out: the defaults ship).
    limits = ReaderLimits(max_rows=defaults["max_rows"], max_columns=defaults["max_columns"])
    with tempfile.TemporaryDirectory(prefix="hostile-serve-") as scratch:
        _warm_up(Path(scratch), summarise_sheet, limits)
        print(json.dumps({"idle_mib": _status_kib("VmRSS") / 1024}), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            result = _read_in_child(
                Path(request["path"]),
                Path(scratch) / "result.json",
                lambda path: _read_as_upload(path, summarise_sheet, limits),
                request["timeout_s"],
                request["cap_mib"],
            )
            print(json.dumps(result), flush=True)


def _warm_up(folder: Path, summarise: Any, limits: Any) -> None:
    # The idle process has loaded what the first read of each format loads lazily.
    csv_path = folder / "warm.csv"
    csv_path.write_bytes(b"ID;Nome\r\n1;Ana\r\n")
    rows = build_hostile.inline_row(1, ["ID", "Nome"]) + build_hostile.inline_row(2, ["1", "Ana"])
    xlsx_path = build_hostile.write_xlsx(folder / "warm.xlsx", {"Contatos": build_hostile.sheet_xml(rows)})
    for path in (csv_path, xlsx_path):
        summarise(path, None, limits)


def _read_as_upload(path: Path, summarise: Any, limits: Any) -> dict[str, Any]:
    from services.importer.domain.file_errors import FileRejected

    try:
        summary = summarise(path, None, limits)
    except FileRejected as rejected:
        return {"outcome": rejected.code, "rows": None, "detail": rejected.message("en")}
    return {"outcome": "ok", "rows": summary.row_count, "detail": ""}


def _read_in_child(path: Path, result_file: Path, read: Any, timeout_s: float, cap_mib: int | None) -> dict[str, Any]:
    result_file.unlink(missing_ok=True)
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: measure, read, report, exit without cleanup
        code = 0
        try:
            # stdout is the server's channel to the parent: nothing read may print on it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            _reset_peak_rss()
            idle_kib = _status_kib("VmRSS")
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            if cap_mib is not None:  # the soft limit only: it is lifted again to report
                cap = _status_kib("VmSize") * 1024 + cap_mib * MIB
                resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
            read_before = _bytes_read()
            cpu_before = time.process_time()
            began = time.perf_counter()
            try:
                outcome = read(path)
            except BaseException:  # what the bounds are about: report it, whatever it is
                outcome = {"outcome": "crash", "rows": None, "detail": traceback.format_exc()}
            outcome["wall_s"] = time.perf_counter() - began
            outcome["cpu_s"] = time.process_time() - cpu_before
            outcome["peak_mib"] = (_status_kib("VmHWM") - idle_kib) / 1024
            after = _bytes_read()
            outcome["read_mib"] = None if after is None or read_before is None else (after - read_before) / MIB
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            result_file.write_text(json.dumps(outcome))
        except BaseException:
            code = 1
            traceback.print_exc()
        finally:
            os._exit(code)
    timed_out = False
    while True:
        done, _status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() - started > timeout_s:
            os.kill(pid, signal.SIGKILL)
            _, _status, usage = os.wait4(pid, 0)
            timed_out = True
            break
        time.sleep(0.005)
    if not timed_out and result_file.exists():
        return json.loads(result_file.read_text())  # type: ignore[no-any-return]
    return {
        "outcome": "timeout" if timed_out else "crash",
        "rows": None,
        "wall_s": time.perf_counter() - started,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,  # the child's whole RSS: an upper bound
        "read_mib": None,
        "detail": f"killed after {timeout_s} s" if timed_out else f"child died: wait status {_status}",
    }


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status (Linux only)")


def _reset_peak_rss() -> None:
    # "5" resets VmHWM to the current RSS (Linux >= 4.0): the fork's peak starts here.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _bytes_read() -> int | None:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# --- the baselines: an export of 50,000 contacts ---------------------------------------


def write_baselines(folder: Path, rows: int) -> dict[str, Path]:
    """The export of `rows` synthetic contacts (20 columns) as CSV and as XLSX."""
    from bench.export_writers import synthetic_contacts, synthetic_context
    from services.export.domain.columns import build_columns
    from services.export.domain.csv_writer import CsvExportWriter
    from services.export.domain.xlsx_writer import XlsxExportWriter

    context = synthetic_context()
    columns = build_columns(context)
    contacts = synthetic_contacts(context, rows)
    paths = {"csv": folder / f"export-{rows}.csv", "xlsx": folder / f"export-{rows}.xlsx"}
    writers = {
        "csv": CsvExportWriter(columns, context),
        "xlsx": XlsxExportWriter(columns, context, export_id="00000000-0000-0000-0000-000000000001"),
    }
    for kind, writer in writers.items():
        with paths[kind].open("wb") as file:
            for at in range(0, len(contacts), 5000):
                file.writelines(writer.write_rows(contacts[at : at + 5000]))
            file.writelines(writer.close())
    return paths


# --- the run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    kind: str  # "csv" or "xlsx": which baseline it is compared with
    size_bytes: int
    expected: str | None
    reading: Reading


def measure(
    names: Iterable[str], folder: Path, baseline_rows: int, cap_mib: int
) -> tuple[list[Row], dict[str, Row], float]:
    baselines: dict[str, Row] = {}
    rows: list[Row] = []
    with ReadingServer(cap_mib=cap_mib) as server:
        for kind, path in write_baselines(folder, baseline_rows).items():
            reading = server.read(path)
            baselines[kind] = Row(f"{baseline_rows:,}-row export", kind, path.stat().st_size, None, reading)
            print(f"baseline {kind}: {reading}", flush=True)
            path.unlink()
        for name in names:
            hostile = build_hostile.build(name, folder)
            kind = "csv" if hostile.path.suffix == ".csv" else "xlsx"
            size = hostile.path.stat().st_size
            reading = server.read(hostile.path)
            hostile.path.unlink()
            rows.append(Row(name, kind, size, hostile.expected_code, reading))
            print(f"{name}: {reading.shown} {reading.wall_s:.2f} s {reading.peak_mib:.1f} MiB", flush=True)
        return rows, baselines, server.idle_mib


def _size(size: int) -> str:
    if size >= MIB:
        return f"{size / MIB:,.0f} MiB"
    return f"{size / 1024:,.0f} KiB" if size >= 1024 else f"{size} B"


def _ratio(value: float, base: float) -> str:
    ratio = value / base if base > 0 else float("inf")
    return "<0.01" if ratio < 0.01 else f"{ratio:.2f}" if ratio < 10 else f"{ratio:.0f}"


def table(rows: list[Row], baselines: dict[str, Row], idle_mib: float) -> str:
    """Markdown: the baselines, then each input with its ratios to the baseline of its
    kind. Memory ratios are of the process's peak RSS (idle + growth): a streaming read
    of a normal file grows it by 1-3 MiB only, so a ratio of growths would be noise."""
    lines = [
        "| input | size | outcome | wall s | CPU s | RSS growth MiB (bound) | read MiB "
        "| wall ÷ baseline | peak RSS ÷ baseline (bound) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, base in baselines.items():
        r = base.reading
        lines.append(
            f"| **baseline: {base.name}, {kind.upper()}** | {_size(base.size_bytes)} | {r.shown} | "
            f"{r.wall_s:.2f} | {r.cpu_s:.2f} | {r.peak_mib:,.1f} | {_read(r)} | 1 | 1 |"
        )
    for row in rows:
        r, base = row.reading, baselines[row.kind].reading
        bound = memory_bound_mib(row.name)
        memory = _ratio(idle_mib + r.peak_mib, idle_mib + base.peak_mib)
        memory_bound = _ratio(idle_mib + bound, idle_mib + base.peak_mib)
        lines.append(
            f"| `{row.name}` ({row.kind.upper()}) | {_size(row.size_bytes)} | {r.shown} | {r.wall_s:.2f} | "
            f"{r.cpu_s:.2f} | {r.peak_mib:,.1f} ({bound}) | {_read(r)} | {_ratio(r.wall_s, base.wall_s)} | "
            f"{memory} ({memory_bound}) |"
        )
    worst_time = max(rows, key=lambda row: row.reading.wall_s)
    worst_memory = max(rows, key=lambda row: row.reading.peak_mib)
    unexpected = [row.name for row in rows if row.reading.outcome != (row.expected or "ok")]
    over = [row.name for row in rows if row.reading.peak_mib >= memory_bound_mib(row.name)]
    slow = [row.name for row in rows if row.reading.wall_s >= TIME_BOUND_S]
    time_ratios = ", ".join(
        f"{_ratio(TIME_BOUND_S, base.reading.wall_s)}× the {kind.upper()} baseline" for kind, base in baselines.items()
    )
    notes = [
        f"Idle importer process (imports done, before the fork): {idle_mib:.0f} MiB RSS.",
        f"Time bound: {TIME_BOUND_S:.0f} s wall for every input ({time_ratios}).",
        f"Slowest input: `{worst_time.name}`, {worst_time.reading.wall_s:.2f} s; "
        f"most memory: `{worst_memory.name}`, {worst_memory.reading.peak_mib:.1f} MiB.",
        f"**Outcome not the corpus's expectation: {', '.join(unexpected)}.**"
        if unexpected
        else "Every input ended in the outcome the corpus expects.",
    ]
    if over or slow:
        notes.append(f"**Over its bound: {', '.join(sorted(set(over + slow)))}.**")
    return "\n".join(lines) + "\n\n" + " ".join(notes)


def _read(reading: Reading) -> str:
    return "—" if reading.read_mib is None else f"{reading.read_mib:,.1f}"


def write_docs(figures: str) -> None:
    """Replaces the block between the markers in docs/reliability.md (the markers must be
    there: the section's prose is written by hand); atomically."""
    text = DOCS.read_text(encoding="utf-8")
    if FIGURES_START not in text or FIGURES_END not in text:
        raise SystemExit(f"{DOCS}: the markers {FIGURES_START!r} … {FIGURES_END!r} are missing")
    before, rest = text.split(FIGURES_START, 1)
    after = rest.split(FIGURES_END, 1)[1]
    temporary = DOCS.with_suffix(".md.tmp")
    temporary.write_text(f"{before}{FIGURES_START}\n{figures.strip()}\n{FIGURES_END}{after}", encoding="utf-8")
    os.replace(temporary, DOCS)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=BASELINE_ROWS, help="rows of the baseline exports")
    parser.add_argument("--long", action="store_true", help="also the 1 GiB cases (2 GiB written to a temp dir)")
    parser.add_argument("--only", action="append", default=[], help="corpus case names to run")
    parser.add_argument(
        "--cap-mib", type=int, default=4 * MEMORY_CAP_MIB, help="address-space cap per read (the suite's is lower)"
    )
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/reliability.md")
    args = parser.parse_args()
    if args.serve:
        _serve()
        return
    names = list(build_hostile.CASES) + (list(build_hostile.LONG_CASES) if args.long else [])
    names = [name for name in names if not args.only or name in args.only]
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as folder:
        rows, baselines, idle_mib = measure(names, Path(folder), args.rows, args.cap_mib)
    rendered = table(rows, baselines, idle_mib)
    print()
    print(rendered)
    if args.write_docs:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        write_docs(f"Run of {when} UTC ({os.cpu_count()} CPUs, shared):\n\n{rendered}")


if __name__ == "__main__":
    main()
