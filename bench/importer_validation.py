"""Parse + validate throughput of the importer's domain, without I/O.

    .venv/bin/python -m bench.importer_validation [--rows 200000] [--edit-fraction 0.1]
                                                  [--fields standard|all] [--profile]

An export-shaped CSV is written with the export's own CsvExportWriter from synthetic
contacts (bench/export_writers.py: 12 standard + 8 custom fields), a fraction of its rows
edited as a user would (job title, stage, a tag). Then, each timed in the same run:

- `csv module`: the raw `csv.reader` pass over the file (the floor of any Python reader);
- `readers`: our SheetReader (encoding/sniffing, limits, RawRow);
- `readers + validate`: the above fed through SheetValidator in batches of 1000, each
  batch's lookup answered from a dict prepared before timing (what the contacts service
  returns, with the contacts' cells as the export shows them), as the validation run does;
- `(cell by cell)`: the same without the shown cells (what an XLSX gets), every cell of
  an unedited row checked on its own.

Rates are rows/s and ratios to the csv module's rate in the same run (process CPU time,
so a noisy neighbour on a shared machine counts less).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.export_writers import synthetic_contacts, synthetic_context
from services.export.domain.cell_values import text_cells
from services.export.domain.columns import ExportColumn, available_fields, build_columns
from services.export.domain.csv_writer import CsvExportWriter
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.mapping import suggest_mapping
from services.importer.domain.readers import open_sheet
from services.importer.domain.validation import SheetValidator, ValidationCounts, merged
from services.importer.domain.validation_setup import ValidationSetup
from shared.contacts_api import AccountContext, ContactLookup, ContactLookupRequest, ContactRecord
from shared.fields import STANDARD_FIELDS

BATCH_ROWS = 1000
DISTINCT_CONTACTS = 50_000  # records built once, ids made unique per row


def bench_context() -> AccountContext:
    """The export bench's account, with its select fields' options (the importer checks them)."""
    context = synthetic_context()
    options = {"segmento": ["Varejo", "Indústria", "Serviços"], "interesses": ["A", "B", "C", "D"]}
    customs = [
        d.model_copy(update={"options": options[d.key]}) if d.key in options else d for d in context.custom_fields
    ]
    return context.model_copy(update={"custom_fields": customs})


def edited(contact: ContactRecord, rng: random.Random) -> ContactRecord:
    """A user's edit of an exported row: one to three fields changed."""
    changes: dict[str, object] = {"job_title": f"Coordenadora {rng.randrange(100)}"}
    if rng.random() < 0.5:
        changes["lifecycle_stage"] = rng.choice(["lead", "oportunidade", "cliente"])
    if rng.random() < 0.3:
        changes["tags"] = [*contact.tags, "importado"]
    return contact.model_copy(update=changes)


def write_export_csv(
    path: Path,
    context: AccountContext,
    templates: Sequence[ContactRecord],
    rows: int,
    edit_fraction: float,
    fields: Sequence[str] | None,
) -> None:
    """`rows` contacts (ids 10_000_000 + n) as the export writes them, some edited."""
    rng = random.Random(11)
    writer = CsvExportWriter(build_columns(context, "pt-BR", fields), context)
    with path.open("wb") as file:
        for start in range(0, rows, 10_000):
            batch = []
            for n in range(start, min(rows, start + 10_000)):
                record = templates[n % len(templates)].model_copy(update={"id": 10_000_000 + n})
                batch.append(edited(record, rng) if rng.random() < edit_fraction else record)
            for chunk in writer.write_rows(batch):
                file.write(chunk)
        for chunk in writer.close():
            file.write(chunk)


class PreparedLookup:
    """The contacts service's answer, from records indexed before timing: the stored
    (unedited) contact for each id, and, when asked, its cells as the export shows them
    (the service renders those in SQL; here the export's Python reference does)."""

    def __init__(self, templates: Sequence[ContactRecord], context: AccountContext) -> None:
        self.templates = templates
        self.context = context

    def contact(self, contact_id: int) -> ContactRecord:
        return self.templates[(contact_id - 10_000_000) % len(self.templates)].model_copy(update={"id": contact_id})

    def lookup(self, request: ContactLookupRequest) -> ContactLookup:
        contacts = [self.contact(i) for i in request.ids]
        cells = {}
        if request.cells is not None:
            by_key = {spec.key: spec for spec in available_fields(self.context)}
            columns = [ExportColumn(field=by_key[c.key], header=c.key) for c in request.cells.columns]
            show = text_cells(columns, self.context, request.cells.locale.value)
            cells = {c.id: tuple(show(c)) for c in contacts}
        found = contacts if request.with_contacts else []
        return ContactLookup.model_construct(contacts=found, email_owners={}, cells=cells)


def setup_for(path: Path, context: AccountContext, text_cells: bool = True) -> ValidationSetup:
    with open_sheet(path) as reader:
        info = reader.info
    fields = AccountFields.from_account(context)
    suggestion = suggest_mapping(
        info.header, fields, account_locale=context.locale, with_letters=False, export_metadata=info.export_metadata
    )
    return ValidationSetup(
        account=context,
        columns=suggestion.fields_by_column,
        headers=info.header,
        with_letters=False,
        sheet_locale=suggestion.sheet_locale,
        text_cells=text_cells,
    )


def time_csv_module(path: Path) -> tuple[int, float]:
    started = time.process_time()
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = sum(1 for _ in csv.reader(file, delimiter=";")) - 1
    return rows, time.process_time() - started


def time_readers(path: Path) -> tuple[int, float]:
    started = time.process_time()
    with open_sheet(path) as reader:
        rows = sum(1 for _ in reader.rows())
    return rows, time.process_time() - started


def _batches(rows: Iterable, n: int) -> Iterable[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


Answers = dict[int, tuple[ContactLookup, ContactLookup | None]]


def validate_file(path: Path, setup: ValidationSetup, lookups: Answers) -> ValidationCounts:
    """What the validation run does per batch, its two lookups answered from `lookups`."""
    validator = SheetValidator(setup)
    with open_sheet(path) as reader:
        for number, batch in enumerate(_batches(reader.rows(), BATCH_ROWS)):
            pending = validator.begin_batch(batch)
            lookup, follow_up = lookups[number]
            if validator.follow_up(pending, lookup):
                assert follow_up is not None
                lookup = merged(lookup, follow_up)
            validator.judge_batch(pending, lookup)
    return validator.finish().counts


def prepare_lookups(path: Path, setup: ValidationSetup, prepared: PreparedLookup) -> Answers:
    """Each batch's lookup answers, built before timing (the service's I/O is not ours)."""
    validator = SheetValidator(setup)
    lookups: Answers = {}
    with open_sheet(path) as reader:
        for number, batch in enumerate(_batches(reader.rows(), BATCH_ROWS)):
            pending = validator.begin_batch(batch)
            lookup = prepared.lookup(pending.request)
            more = validator.follow_up(pending, lookup)
            lookups[number] = (lookup, prepared.lookup(more) if more else None)
    return lookups


def time_validation(path: Path, setup: ValidationSetup, lookups: Answers) -> tuple[int, float, ValidationCounts]:
    started = time.process_time()
    counts = validate_file(path, setup, lookups)
    return counts.rows, time.process_time() - started, counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--edit-fraction", type=float, default=0.1)
    parser.add_argument("--fields", choices=("standard", "all"), default="all")
    parser.add_argument("--profile", action="store_true", help="cProfile the validation pass instead")
    args = parser.parse_args()

    context = bench_context()
    templates = synthetic_contacts(context, min(args.rows, DISTINCT_CONTACTS))
    fields = [f.key for f in STANDARD_FIELDS] if args.fields == "standard" else None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        write_export_csv(path, context, templates, args.rows, args.edit_fraction, fields)
        setup = setup_for(path, context)
        lookups = prepare_lookups(path, setup, PreparedLookup(templates, context))
        cell_setup = setup_for(path, context, text_cells=False)
        cell_lookups = prepare_lookups(path, cell_setup, PreparedLookup(templates, context))
        # The service holds one batch's lookup at a time, not them all: keep the prepared
        # answers out of the collector's way so they do not slow the timed passes.
        gc.freeze()
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            validate_file(path, setup, lookups)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return
        base_rows, base_s = time_csv_module(path)
        read_rows, read_s = time_readers(path)
        rows, validate_s, counts = time_validation(path, setup, lookups)
        cell_rows, cell_s, cell_counts = time_validation(path, cell_setup, cell_lookups)
        assert cell_counts == counts, "the whole-row check must find what the cell-by-cell judgement finds"
    columns = len(setup.columns)
    base_rate = base_rows / base_s
    print(f"{args.rows:,} rows x {columns} columns, {args.edit_fraction:.0%} edited (CPU seconds)")
    print(f"{'pass':<22} {'rows':>9} {'s':>7} {'rows/s':>10} {'x csv raw':>9}")
    for label, n, seconds in (
        ("csv module (raw)", base_rows, base_s),
        ("readers", read_rows, read_s),
        ("readers + validate", rows, validate_s),
        ("  (cell by cell)", cell_rows, cell_s),
    ):
        rate = n / seconds
        print(f"{label:<22} {n:>9,} {seconds:>7.2f} {rate:>10,.0f} {rate / base_rate:>9.2f}")
    print(
        f"outcomes: update {counts.to_update:,}, unchanged {counts.unchanged:,}, create {counts.to_create:,}, "
        f"errors {counts.errors:,}, warnings {counts.warnings:,}; changes {dict(counts.field_changes)}"
    )


if __name__ == "__main__":
    main()
