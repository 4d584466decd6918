"""Property: the whole-row check (a CSV row compared with the cells the export shows for
its contact, ContactLookup.cells) changes how fast rows are judged, never what is found.

Contacts with every field type go through the export's CSV writer and the importer's CSV
reader; random cells are then edited as a user would (cleared, retyped, copied from
another row, changed case, other formats); the sheet is validated with and without the
shown cells, and every verdict must be the same.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.export.domain.columns import build_columns
from services.export.domain.csv_writer import iter_csv_chunks
from services.importer.domain.readers import open_sheet
from services.importer.domain.row_judgement import RowJudge
from services.importer.domain.sheet import RawRow
from services.importer.domain.validation import BatchVerdict, SheetValidator, ValidationSummary, merged
from services.importer.domain.validation_setup import ValidationOptions

from .builders import InMemoryContacts, account, contact, setup_for, validate

OPTIONS = ["Varejo", "Indústria", "Serviços"]
INTERESTS = ["Café", "Chá", "Água"]
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
custom_values = st.fixed_dictionaries(
    {},
    optional={
        "renda": st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**9, min_value=-(10**9)).map(
            lambda d: format(d, "f")
        ),
        "funcionarios": st.integers(-(10**6), 10**12),
        "fundacao": st.dates().map(lambda d: d.isoformat()),
        "ultimo_contato": st.datetimes(
            min_value=datetime(1950, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
        ).map(lambda m: m.replace(microsecond=0).isoformat()),
        "cliente_ativo": st.booleans(),
        "segmento": st.sampled_from(OPTIONS),
        "interesses": st.lists(st.sampled_from(INTERESTS), unique=True, min_size=1),
        "observacoes": texts.filter(str.strip),
        "cpf": st.sampled_from(["00123", "123.456.789-09", "=1+1", "'quote", "-5"]),
    },
)
contacts = st.builds(
    lambda cid, name, company, tags, owner, stage, legal, custom: contact(
        cid,
        name=name,
        company=company,
        tags=tags,
        owner_id=owner,
        lifecycle_stage=stage,
        legal_entity=legal,
        custom_fields=custom,
    ),
    st.integers(1, 2**62),
    texts.filter(lambda t: t.strip() == t and t),
    st.none() | texts.filter(lambda t: t.strip() == t and t),
    st.lists(st.sampled_from(["vip", "novo", "Cliente Novo"]), unique=True, max_size=2),
    st.sampled_from([None, 11, 12, 13, 14]),
    st.sampled_from([None, "lead", "customer"]),
    st.none() | st.booleans(),
    custom_values,
)
# What a user types over a cell: nothing, text, or values in the sheet's formats.
typed = st.one_of(
    st.none(),
    texts,
    st.sampled_from(
        ["SIM", "não", "Sim", "0", "1.234,56", "1234.56", "31/12/1999", "1999-12-31", "Varejo", "varejo", "x@y.com"]
    ),
)


def exported_rows(records: list, locale: str) -> tuple[list[str], list[RawRow]]:
    ctx = account(locale=locale)
    columns = build_columns(ctx, locale)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(b"".join(iter_csv_chunks(columns, ctx, records, locale)))
        with open_sheet(path) as reader:
            return list(reader.info.header), list(reader.rows())


def outcome_of(verdicts: list[BatchVerdict], summary: ValidationSummary) -> tuple:
    rows = [
        (
            r.row_number,
            r.outcome,
            r.contact_id,
            r.changed_fields,
            r.planned.model_dump() if r.planned else None,
            [(i.code, i.severity, i.column, i.header, i.field_key, i.value, dict(i.params)) for i in r.feedback],
        )
        for v in verdicts
        for r in v.rows
    ]
    return rows, summary.counts, [i.code for i in summary.feedback], summary.revoked_rows


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(contacts, min_size=1, max_size=6, unique_by=lambda c: c.id),
    st.sampled_from(["pt-BR", "en"]),
    st.lists(st.tuples(st.integers(0, 5), st.integers(1, 23), typed | st.just("copy")), max_size=8),
    st.booleans(),
)
def test_the_whole_row_check_finds_what_the_cell_by_cell_judgement_finds(
    records: list, locale: str, edits: list, ignore_empty: bool
) -> None:
    header, rows = exported_rows(records, locale)
    cells = [list(r.cells) + [None] * (len(header) - len(r.cells)) for r in rows]
    for row_index, column, value in edits:
        if row_index < len(cells):
            cells[row_index][column] = cells[(row_index + 1) % len(cells)][column] if value == "copy" else value
    edited = [RawRow(r.row_number, tuple(c)) for r, c in zip(rows, cells, strict=True)]
    ctx = account(locale=locale)
    options = ValidationOptions(ignore_empty_cells=ignore_empty)
    with_shown = validate(setup_for(ctx, header, with_letters=False, options=options), edited, records)
    cell_by_cell = validate(
        setup_for(ctx, header, with_letters=False, options=options, text_cells=False), edited, records
    )
    assert outcome_of(*with_shown) == outcome_of(*cell_by_cell)


def test_an_untouched_export_is_judged_by_the_whole_row_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def judged_cell_by_cell(*_: object) -> None:
        raise AssertionError("an untouched row was judged cell by cell")

    monkeypatch.setattr(RowJudge, "_judge_cells_of_contact", judged_cell_by_cell)
    records = [contact(1001), contact(1002, name="=Fórmula", custom_fields={"cpf": "00123", "renda": "-1.50"})]
    header, rows = exported_rows(records, "pt-BR")
    _, summary = validate(setup_for(account(), header, with_letters=False), rows, records)
    assert summary.counts.unchanged == 2 and summary.counts.errors == summary.counts.warnings == 0


def test_the_lookup_brings_contacts_only_for_rows_that_differ_from_their_cells() -> None:
    """For a CSV the first lookup asks for the cells alone; the follow-up asks for the
    contacts of the rows that differ from them (and for the emails of unknown ids)."""
    records = [contact(1001), contact(1002), contact(1003, emails=["c@ex.com"])]
    header, rows = exported_rows(records, "pt-BR")
    name = header.index("Nome")
    edited = [
        rows[0],
        RawRow(rows[1].row_number, tuple("Outro Nome" if i == name else c for i, c in enumerate(rows[1].cells))),
        rows[2],
    ]
    edited.append(RawRow(5, tuple("999999" if i == 0 else c for i, c in enumerate(rows[2].cells))))
    validator = SheetValidator(setup_for(account(), header, with_letters=False))
    contacts = InMemoryContacts(records, account())
    batch = validator.begin_batch(edited)
    assert batch.request.with_contacts is False and batch.request.cells is not None
    lookup = contacts.lookup(batch.request)
    assert lookup.contacts == [] and set(lookup.cells) == {1001, 1002, 1003}
    more = validator.follow_up(batch, lookup)
    assert more is not None and more.ids == [1002] and more.emails == ["c@ex.com"] and more.with_contacts
    verdict = validator.judge_batch(batch, merged(lookup, contacts.lookup(more)))
    outcomes = [(v.row_number, v.outcome.value, v.contact_id) for v in verdict.rows]
    assert outcomes == [(2, "unchanged", 1001), (3, "update", 1002), (4, "unchanged", 1003), (5, "create", 999999)]
