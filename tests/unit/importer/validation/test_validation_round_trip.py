"""An untouched export re-imports with 0 errors and every row unchanged; the only
warnings are the recommended fields that are empty in the data itself."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.importer.domain.row_judgement import RowOutcome
from services.importer.domain.sheet import RawRow
from shared.cells import to_local

from .builders import (
    ACCOUNT_ID,
    TZ,
    account,
    contact,
    export_headers,
    export_rows,
    setup_for,
    validate,
)

ALL_KEYS = [
    "id",
    "name",
    "emails",
    "phones",
    "company",
    "job_title",
    "lifecycle_stage",
    "owner",
    "legal_entity",
    "tags",
    "created_at",
    "updated_at",
    "renda",
    "funcionarios",
    "fundacao",
    "ultimo_contato",
    "cliente_ativo",
    "segmento",
    "interesses",
    "observacoes",
    "site",
    "email_cobranca",
    "whatsapp",
    "cpf",
]


def realistic_contacts() -> list:
    return [
        contact(1001),
        contact(
            1002,
            name="  José D'Ávila  ",  # stored with spaces at the ends
            emails=["Jose.Avila@Cliente.com.br", "outro@x.com"],
            phones=["+5521987654321", "+16502530000"],
            company="=Empresa que parece fórmula",
            job_title="-Diretor",
            lifecycle_stage="customer",
            owner_id=12,  # a name two owners share: the current one is kept
            legal_entity=True,
            tags=["Cliente Novo", "vip"],
            custom_fields={
                "renda": "1234.50",
                "funcionarios": 1200,
                "fundacao": "1999-12-31",
                "ultimo_contato": "2018-02-18T02:30:00+00:00",  # the hour DST end repeats
                "cliente_ativo": False,
                "segmento": "Indústria",
                "interesses": ["Chá", "Café"],
                "observacoes": "linha 1\r\nlinha 2",
                "site": "www.exemplo.com.br",
                "email_cobranca": "Financeiro@Exemplo.com",
                "whatsapp": "+5511987654321",
                "cpf": "00123",
            },
        ),
        contact(
            1003,
            emails=[],
            phones=["+5511000"],
            company=None,
            job_title=None,
            lifecycle_stage=None,
            owner_id=None,
            legal_entity=None,
            tags=[],
            custom_fields={"renda": "0.10", "interesses": []},
        ),
        contact(123456789012345678, name="ID longo"),
    ]


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_untouched_csv_export_changes_nothing(locale: str) -> None:
    ctx = account(locale=locale)
    records = realistic_contacts()
    headers = export_headers(ctx, ALL_KEYS, locale)
    rows = export_rows(ctx, ALL_KEYS, records, locale)
    verdicts, summary = validate(setup_for(ctx, headers, with_letters=False), rows, records)
    feedback = [i for v in verdicts for i in v.feedback] + summary.feedback
    assert [(i.code, i.row_number, i.field_key, i.params["variant"]) for i in feedback] == [
        ("recommended_field_empty", 4, key, "empty") for key in ("lifecycle_stage", "owner", "legal_entity")
    ]
    assert [r.outcome for v in verdicts for r in v.rows] == [RowOutcome.UNCHANGED] * len(records)
    assert (summary.counts.rows, summary.counts.unchanged, summary.counts.errors) == (4, 4, 0)
    assert summary.counts.warnings == 3
    assert summary.counts.field_changes == {}
    assert summary.ready_to_start


def test_untouched_xlsx_export_with_typed_cells_changes_nothing() -> None:
    ctx = account()
    records = realistic_contacts()
    headers = export_headers(ctx, ALL_KEYS)
    text_rows = export_rows(ctx, ALL_KEYS, records)
    typed = {  # what a spreadsheet program turns these columns into
        "id": lambda r: r.id if r.id <= 2**53 else str(r.id),
        "created_at": lambda r: to_local(r.created_at, TZ),
        "updated_at": lambda r: to_local(r.updated_at, TZ),
        "funcionarios": lambda r: r.custom_fields.get("funcionarios"),
        "renda": lambda r: float(r.custom_fields["renda"]) if "renda" in r.custom_fields else None,
    }
    rows = [
        RawRow(
            raw.row_number,
            tuple(typed[key](record) if key in typed else cell for key, cell in zip(ALL_KEYS, raw.cells, strict=True)),
        )
        for raw, record in zip(text_rows, records, strict=True)
    ]
    verdicts, summary = validate(setup_for(ctx, headers), rows, records)
    assert {i.row_number for v in verdicts for i in v.feedback} == {4}  # its empty fields
    assert summary.feedback == []
    assert summary.counts.errors == 0
    assert summary.counts.unchanged == len(records)


# Stored values: PostgreSQL's text never holds NUL (a cell with one is an error).
storable = st.characters(exclude_characters="\x00")
names = st.text(storable, min_size=1, max_size=30).filter(lambda t: t.strip() != "")
tags = st.lists(
    st.text(storable, min_size=1, max_size=12).filter(lambda t: t.strip() == t and not set(t) & set(",;")),
    max_size=3,
    unique_by=str.casefold,
)
contacts = st.builds(
    lambda cid, name, company, tag_list, owner, stage, legal, updated: contact(
        cid,
        name=name,
        company=company,
        tags=tag_list,
        owner_id=owner,
        lifecycle_stage=stage,
        legal_entity=legal,
        updated_at=updated,
    ),
    st.integers(1, 2**63 - 1),
    names,
    st.none() | st.text(storable, max_size=30),
    tags,
    st.sampled_from([None, 11, 12, 13, 14]),
    st.sampled_from([None, "lead", "customer"]),
    st.none() | st.booleans(),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(contacts, min_size=1, max_size=8, unique_by=lambda c: c.id),
    st.sampled_from(["pt-BR", "en"]),
)
def test_any_untouched_export_changes_nothing(records: list, locale: str) -> None:
    ctx = account(locale=locale)
    keys = ALL_KEYS[:12]
    rows = export_rows(ctx, keys, records, locale)
    verdicts, summary = validate(setup_for(ctx, export_headers(ctx, keys, locale)), rows, records, batch_size=3)
    assert summary.counts.errors == 0
    assert summary.counts.unchanged == len(records)
    # The only warnings an untouched sheet may get: recommended fields that are empty.
    assert {i.code for v in verdicts for i in v.feedback} <= {"recommended_field_empty"}
    assert all(r.account_id == ACCOUNT_ID for r in records)
