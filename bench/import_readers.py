"""Throughput and peak memory of the importer's file readers.

    .venv/bin/python bench/import_readers.py [--csv-rows 1000000] [--xlsx-rows 100000]

Each measurement runs in its own process so that its peak RSS (ru_maxrss) is its own.
Figures are given as rows/s and as a ratio to the csv module's raw parse of the same
rows in the same run (the floor any Python CSV reader sits on).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
COLUMNS = 20


def _rows(count: int, columns: int) -> list[list[object]]:
    rng = random.Random(7)
    words = ["".join(rng.choices(string.ascii_letters + "çãéí ", k=12)) for _ in range(500)]
    return [
        [n, *(rng.choice(words) if c % 3 else rng.randint(0, 10**6) for c in range(1, columns))]
        for n in range(1, count + 1)
    ]


def write_csv(path: Path, count: int, columns: int) -> None:
    header = ["ID", *(f"Campo {c}" for c in range(1, columns))]
    rows = _rows(min(count, 50_000), columns)
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, delimiter=";")
        writer.writerow(header)
        for n in range(count):
            row = rows[n % len(rows)]
            writer.writerow([n + 1, *row[1:]])


def write_xlsx(path: Path, count: int, columns: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contatos")
    sheet.append(["ID", *(f"Campo {c}" for c in range(1, columns))])
    for row in _rows(count, columns):
        sheet.append(row)
    workbook.save(path)


# --- measurements (each in a child process) ----------------------------------------


def measure_csv_module(path: str) -> int:
    with open(path, encoding="utf-8-sig", newline="") as file:
        return sum(1 for _ in csv.reader(file, delimiter=";")) - 1


def measure_readers(path: str) -> int:
    from services.importer.domain.readers import open_sheet

    with open_sheet(path) as reader:
        return sum(1 for _ in reader.rows())


def measure_openpyxl(path: str) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # never trust <dimension>
    count = sum(1 for _ in sheet.iter_rows(values_only=True)) - 1
    workbook.close()
    return count


def measure_calamine(path: str) -> int:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(path)
    return sum(1 for _ in workbook.get_sheet_by_index(0).iter_rows()) - 1


MEASURES = {
    "csv_module": measure_csv_module,
    "readers": measure_readers,
    "openpyxl_read_only": measure_openpyxl,
    "calamine": measure_calamine,
}


def _child(name: str, path: str) -> None:
    started = time.perf_counter()
    rows = MEASURES[name](path)
    elapsed = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": elapsed, "peak_mib": _peak_rss_kib() / 1024}))


def _peak_rss_kib() -> int:
    # VmHWM restarts at exec; ru_maxrss would carry the parent's peak over the fork.
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _run(name: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--child", nargs=2, metavar=("MEASURE", "PATH"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big_csv, small_csv, xlsx = folder / "big.csv", folder / "small.csv", folder / "s.xlsx"
        write_csv(big_csv, args.csv_rows, COLUMNS)
        write_csv(small_csv, args.xlsx_rows, COLUMNS)
        write_xlsx(xlsx, args.xlsx_rows, COLUMNS)
        plan = [
            ("CSV", big_csv, "csv_module"),
            ("CSV", big_csv, "readers"),
            ("XLSX", small_csv, "csv_module"),
            ("XLSX", xlsx, "readers"),
            ("XLSX", xlsx, "openpyxl_read_only"),
            ("XLSX", xlsx, "calamine"),
        ]
        results = [(kind, name, path, _run(name, path)) for kind, path, name in plan]
    print(f"{'file':<5} {'reader':<20} {'rows':>9} {'s':>7} {'rows/s':>10} {'x csv raw':>9} {'peak MiB':>9}")
    baseline: dict[str, float] = {}
    for kind, name, _path, result in results:
        rate = result["rows"] / result["seconds"]
        if name == "csv_module":
            baseline[kind] = rate
            label = "csv module (raw)"
        else:
            label = {"readers": "ours"}.get(name, name)
        ratio = rate / baseline[kind]
        print(
            f"{kind:<5} {label:<20} {result['rows']:>9.0f} {result['seconds']:>7.2f} "
            f"{rate:>10,.0f} {ratio:>9.2f} {result['peak_mib']:>9.0f}"
        )


if __name__ == "__main__":
    main()
