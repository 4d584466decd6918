from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.export.domain.cell_values import (
    CellReader,
    cell_text,
    format_local_date,
    format_local_datetime,
    to_local_naive,
)
from services.export.domain.columns import build_columns
from shared.cells import format_date, format_datetime, to_local
from shared.contacts_api import Owner

from .factories import make_contact, make_context


def cells(contact_overrides: dict | None = None, locale: str = "pt-BR", **context_overrides):
    context = make_context(**context_overrides)
    reader = CellReader(build_columns(context, locale), context)
    contact = make_contact(**(contact_overrides or {}))
    return {c.key: v for c, v in zip(reader.columns, reader.row(contact), strict=True)}


def test_standard_fields() -> None:
    row = cells()
    assert row["id"] == "1001"  # text: never a number a spreadsheet could round
    assert row["name"] == "Maria da Conceição"
    assert row["emails"] == "maria@example.com.br, m.conceicao@example.com"
    assert row["phones"] == "+55 11 99999-0000"
    assert row["lifecycle_stage"] == "Cliente"
    assert row["owner"] == "Ana Souza"
    assert row["legal_entity"] is True
    assert row["tags"] == "vip, evento-2026"


def test_datetimes_are_local_naive_and_to_the_second() -> None:
    row = cells()
    assert row["created_at"] == datetime(2026, 1, 1, 23, 30, 45)
    assert row["updated_at"] == datetime(2026, 11, 30, 15, 30, 45)
    assert row["ultima_visita"] == datetime(2026, 11, 30, 15, 30, 45)


def test_datetimes_follow_the_account_time_zone() -> None:
    row = cells(timezone="America/Manaus")
    assert row["updated_at"] == datetime(2026, 11, 30, 14, 30, 45)


def test_owner_is_shown_by_email_when_another_owner_has_the_same_name() -> None:
    # "Bruno Lima" and "bruno lima" fold to the same name: the importer could not tell them apart.
    assert cells({"owner_id": 2})["owner"] == "bruno@example.com.br"
    assert cells({"owner_id": 3})["owner"] == "bruno.lima@example.com.br"
    assert cells({"owner_id": 1})["owner"] == "Ana Souza"


def test_owner_without_a_name_is_shown_by_email() -> None:
    owners = [Owner(id=7, name="  ", email="sem.nome@example.com")]
    assert cells({"owner_id": 7}, owners=owners)["owner"] == "sem.nome@example.com"


def test_unknown_owner_and_stage_are_shown_as_stored_never_dropped() -> None:
    row = cells({"owner_id": 99, "lifecycle_stage": "gone"})
    assert row["owner"] == "99"
    assert row["lifecycle_stage"] == "gone"


def test_empty_values_are_empty_cells() -> None:
    row = cells(
        {
            "emails": [], "phones": [], "tags": [], "company": None, "job_title": "",
            "owner_id": None, "lifecycle_stage": None, "legal_entity": None, "custom_fields": {},
        }
    )  # fmt: skip
    keys = ["emails", "phones", "tags", "company", "job_title", "owner", "lifecycle_stage"]
    assert all(row[key] is None for key in [*keys, "legal_entity", "cpf", "faturamento"])


def test_custom_fields_are_typed() -> None:
    row = cells()
    assert row["cpf"] == "01234567890"
    assert row["obs"] == "linha 1\nlinha 2"
    assert row["funcionarios"] == -12
    assert row["faturamento"] == Decimal("1234.50")
    assert row["fundacao"] == date(1999, 12, 31)
    assert row["newsletter"] is False
    assert row["segmento"] == "Varejo"
    assert row["interesses"] == "A, B"
    assert row["whatsapp"] == "011987654321"


def test_non_canonical_custom_values_are_exported_as_their_text() -> None:
    custom = {
        "funcionarios": "doze", "faturamento": "n/a", "fundacao": "31/12/1999",
        "ultima_visita": 17, "newsletter": "talvez", "interesses": [1, "B"], "cpf": 123,
    }  # fmt: skip
    row = cells({"custom_fields": custom})
    assert row["funcionarios"] == "doze"
    assert row["faturamento"] == "n/a"
    assert row["fundacao"] == "31/12/1999"
    assert row["ultima_visita"] == "17"
    assert row["newsletter"] == "talvez"
    assert row["interesses"] == "1, B"
    assert row["cpf"] == "123"


@pytest.mark.parametrize(
    ("value", "pt_br", "en"),
    [
        (True, "SIM", "Yes"),
        (False, "NÃO", "No"),
        (-12, "-12", "-12"),
        (Decimal("1234.50"), "1234,50", "1234.50"),
        (date(1999, 12, 31), "31/12/1999", "1999-12-31"),
        (datetime(2026, 11, 30, 15, 30, 45), "30/11/2026 15:30:45", "2026-11-30 15:30:45"),
        ("=texto", "=texto", "=texto"),  # formula escaping is the CSV writer's job
        (None, "", ""),
    ],
)
def test_cell_text_per_locale(value, pt_br: str, en: str) -> None:
    assert cell_text(value, "pt-BR") == pt_br
    assert cell_text(value, "en") == en


@given(st.dates(min_value=date(1, 1, 2)), st.sampled_from(["pt-BR", "en"]))
def test_date_text_equals_shared_cells(value: date, locale: str) -> None:
    assert format_local_date(value, locale) == format_date(value, locale)


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.sampled_from(["America/Sao_Paulo", "America/Noronha", "Europe/Lisbon"]),
    st.sampled_from(["pt-BR", "en"]),
)
def test_datetime_text_equals_shared_cells(instant: datetime, zone: str, locale: str) -> None:
    local = to_local_naive(instant, ZoneInfo(zone))
    assert local == to_local(instant, zone)
    assert format_local_datetime(local, locale) == format_datetime(instant, locale, zone)
