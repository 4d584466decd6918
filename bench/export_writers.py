"""Rows per second of the export's file writers on the same 20-column contacts.

Not a test: run it by hand, e.g. `.venv/bin/python bench/export_writers.py --rows 50000`.
Every writer encodes the same ContactRecords (built before timing starts, as the service
gets them parsed from the contacts stream) into an in-memory sink that drops the bytes,
and each figure is given as a ratio to the plain `csv` module writing the same rows as
pre-formatted text, measured in the same run (the machine's speed cancels out).

Writers: our CSV writer, our XLSX writer, openpyxl write-only (with the same typed values
and date formats), and XlsxWriter in constant_memory mode when it is installed.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.export.domain.cell_values import CellReader, cell_text
from services.export.domain.columns import ExportColumn, build_columns
from services.export.domain.csv_writer import CsvExportWriter
from services.export.domain.xlsx_writer import XlsxExportWriter
from shared.contacts_api import (
    AccountContext,
    ContactRecord,
    CustomFieldDefinition,
    LifecycleStage,
    Owner,
)
from shared.fields import FieldType

FIRST_NAMES = ["Ana", "João", "Maria", "José", "Luíza", "Pedro", "Fernanda", "Raí", "Conceição"]
LAST_NAMES = ["Silva", "Souza", "Oliveira", "Pereira", "Lima", "Gonçalves", "Araújo"]
COMPANIES = ["Padaria Pão Quente", "Construtora Horizonte; Ltda", "Nectar CRM", "", "Açaí & Cia"]
TAGS = ["vip", "evento-2026", "inbound", "parceiro", "retomar"]


def synthetic_context() -> AccountContext:
    """12 standard fields + 8 custom fields = 20 columns."""
    customs = [
        ("cpf", "CPF", FieldType.TEXT),
        ("segmento", "Segmento", FieldType.SINGLE_SELECT),
        ("interesses", "Interesses", FieldType.MULTI_SELECT),
        ("funcionarios", "Funcionários", FieldType.NUMBER),
        ("faturamento", "Faturamento", FieldType.DECIMAL),
        ("nascimento", "Data de nascimento", FieldType.DATE),
        ("ultima_visita", "Última visita", FieldType.DATETIME),
        ("newsletter", "Newsletter", FieldType.BOOLEAN),
    ]
    return AccountContext(
        account_id=1,
        name="Bench",
        owners=[Owner(id=i, name=f"Vendedor {i}", email=f"v{i}@example.com.br") for i in range(1, 6)],
        lifecycle_stages=[
            LifecycleStage(key=k, name=n, position=i)
            for i, (k, n) in enumerate([("lead", "Lead"), ("oportunidade", "Oportunidade"), ("cliente", "Cliente")])
        ],
        custom_fields=[CustomFieldDefinition(key=k, label=label, type=t) for k, label, t in customs],
    )


def synthetic_contacts(context: AccountContext, count: int, seed: int = 7) -> list[ContactRecord]:
    rng = random.Random(seed)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    contacts = []
    for i in range(count):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        created = base + timedelta(seconds=rng.randrange(60_000_000))
        contacts.append(
            ContactRecord(
                id=10_000_000 + i,
                account_id=context.account_id,
                name=name,
                emails=[f"contato{i}@example.com.br"] + ([f"alt{i}@example.com"] if i % 3 == 0 else []),
                phones=[f"+55 11 9{rng.randrange(10**7, 10**8)}"],
                company=rng.choice(COMPANIES) or None,
                job_title="Gerente de compras" if i % 2 else "Diretora",
                lifecycle_stage=rng.choice(["lead", "oportunidade", "cliente"]),
                owner_id=rng.randrange(1, 6),
                legal_entity=bool(i % 2),
                tags=rng.sample(TAGS, rng.randrange(0, 3)),
                custom_fields={
                    "cpf": f"{rng.randrange(10**10, 10**11):011d}",
                    "segmento": rng.choice(["Varejo", "Indústria", "Serviços"]),
                    "interesses": rng.sample(["A", "B", "C", "D"], 2),
                    "funcionarios": rng.randrange(1, 5000),
                    "faturamento": str(Decimal(rng.randrange(10**8)) / 100),
                    "nascimento": (date(1950, 1, 1) + timedelta(days=rng.randrange(20000))).isoformat(),
                    "ultima_visita": (created + timedelta(days=3)).isoformat(),
                    "newsletter": i % 5 == 0,
                },
                created_at=created,
                updated_at=created + timedelta(hours=5),
                version=1,
            )
        )
    return contacts


class DiscardingSink(io.RawIOBase):
    """A write-only, non-seekable sink that counts and drops bytes (like an upload)."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = len(data)
        self.size += size
        return size


def run_csv_module(columns: Sequence[ExportColumn], context: AccountContext, contacts: list[ContactRecord]) -> int:
    """The baseline: the same cells as text, pre-formatted outside the timing."""
    reader = CellReader(columns, context)
    rows = [[cell_text(v, "pt-BR") for v in reader.row(c)] for c in contacts]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    started = time.process_time()
    writer.writerows(rows)
    buffer.getvalue().encode("utf-8")
    return _elapsed_ns(started)


def run_our_csv(columns: Sequence[ExportColumn], context: AccountContext, contacts: list[ContactRecord]) -> int:
    started = time.process_time()
    writer = CsvExportWriter(columns, context)
    writer.write_rows(contacts)
    writer.close()
    return _elapsed_ns(started)


def run_our_xlsx(columns: Sequence[ExportColumn], context: AccountContext, contacts: list[ContactRecord]) -> int:
    started = time.process_time()
    writer = XlsxExportWriter(columns, context, export_id="00000000-0000-0000-0000-000000000000")
    writer.write_rows(contacts)
    writer.close()
    return _elapsed_ns(started)


def run_openpyxl(columns: Sequence[ExportColumn], context: AccountContext, contacts: list[ContactRecord]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    started = time.process_time()
    reader = CellReader(columns, context)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contatos")
    sheet.append([c.header for c in columns])
    for contact in contacts:
        row = []
        for value in reader.row(contact):
            if isinstance(value, bool):
                value = "SIM" if value else "NÃO"
            elif isinstance(value, Decimal):
                value = float(value)
            if isinstance(value, date):
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = "dd/mm/yyyy hh:mm:ss" if isinstance(value, datetime) else "dd/mm/yyyy"
                value = cell
            row.append(value)
        sheet.append(row)
    workbook.save(DiscardingSink())
    return _elapsed_ns(started)


def run_xlsxwriter(columns: Sequence[ExportColumn], context: AccountContext, contacts: list[ContactRecord]) -> int:
    import tempfile

    import xlsxwriter  # type: ignore[import-not-found]

    started = time.process_time()
    reader = CellReader(columns, context)
    with tempfile.TemporaryDirectory() as folder:
        workbook = xlsxwriter.Workbook(
            f"{folder}/bench.xlsx", {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
        )
        sheet = workbook.add_worksheet("Contatos")
        date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
        datetime_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
        sheet.write_row(0, 0, [c.header for c in columns])
        for row_index, contact in enumerate(contacts, start=1):
            for col_index, value in enumerate(reader.row(contact)):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_string(row_index, col_index, "SIM" if value else "NÃO")
                elif isinstance(value, datetime):
                    sheet.write_datetime(row_index, col_index, value, datetime_format)
                elif isinstance(value, date):
                    sheet.write_datetime(row_index, col_index, value, date_format)
                elif isinstance(value, str):
                    sheet.write_string(row_index, col_index, value)
                else:
                    sheet.write_number(row_index, col_index, float(value))
        workbook.close()
    return _elapsed_ns(started)


def _elapsed_ns(started: float) -> int:
    return int((time.process_time() - started) * 1e9)


def peak_traced_mib(run: Callable[..., int], *args: Any) -> float:
    tracemalloc.start()
    run(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / (1 << 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--library-rows", type=int, default=10_000, help="rows for the slow library writers")
    parser.add_argument("--memory", action="store_true", help="also trace peak Python memory (slow)")
    args = parser.parse_args()

    context = synthetic_context()
    columns = build_columns(context)
    contacts = synthetic_contacts(context, args.rows)
    runs: list[tuple[str, Callable[..., int], int]] = [
        ("csv module (baseline)", run_csv_module, args.rows),
        ("crm-bulk CSV writer", run_our_csv, args.rows),
        ("crm-bulk XLSX writer", run_our_xlsx, args.rows),
        ("openpyxl write-only", run_openpyxl, args.library_rows),
    ]
    try:
        import xlsxwriter  # type: ignore[import-not-found]  # noqa: F401

        runs.append(("XlsxWriter constant_memory", run_xlsxwriter, args.library_rows))
    except ImportError:
        print("XlsxWriter not installed: skipped")

    print(f"{len(columns)} columns; {args.rows} rows ({args.library_rows} for library writers)\n")
    print(f"{'writer':<28} {'rows':>8} {'rows/s':>10} {'vs csv module':>14}" + ("  peak MiB" if args.memory else ""))
    baseline: float | None = None
    for label, run, rows in runs:
        elapsed = min(run(columns, context, contacts[:rows]) for _ in range(3))
        rate = rows / (elapsed / 1e9)
        baseline = baseline or rate
        line = f"{label:<28} {rows:>8} {rate:>10,.0f} {rate / baseline:>13.2f}x"
        if args.memory:
            line += f"  {peak_traced_mib(run, columns, context, contacts[:rows]):8.1f}"
        print(line)


if __name__ == "__main__":
    main()
