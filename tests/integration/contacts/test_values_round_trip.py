"""Property: whatever valid values a contact gets, it reads back exactly as written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.contacts.conftest import MakeAccount
from tests.integration.contacts.helpers import add_custom_field

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s.strip())
_long_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=200
)
_item = _text.filter(lambda s: not any(c in s for c in ",;\n"))
_moment = st.datetimes(
    min_value=datetime(1900, 1, 2),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3)), timezone(timedelta(hours=5, minutes=30))]),
)
OPTIONS = ["Varejo", "Indústria", "Serviços"]

contact_values = st.fixed_dictionaries(
    {
        "name": _text,
        "emails": st.lists(
            st.from_regex(r"[a-z0-9.]{1,10}@[a-z]{1,8}\.com\.br", fullmatch=True), unique=True, max_size=3
        ),
        "phones": st.lists(st.from_regex(r"\+55[1-9]{2}9[0-9]{8}", fullmatch=True), unique=True, max_size=3),
        "company": st.none() | _text,
        "job_title": st.none() | _text,
        "legal_entity": st.none() | st.booleans(),
        "tags": st.lists(_item, unique=True, max_size=4),
        "lifecycle_stage": st.none() | st.sampled_from(["lead", "cliente", "inativo"]),
        "custom_fields": st.fixed_dictionaries(
            {},
            optional={
                "texto": _text,
                "nota": _long_text,
                "inteiro": st.integers(-(2**53), 2**53),
                "decimal": st.decimals(
                    allow_nan=False,
                    allow_infinity=False,
                    places=4,
                    min_value=Decimal("-1e12"),
                    max_value=Decimal("1e12"),
                ).map(lambda d: format(d, "f")),
                "data": st.dates().map(lambda d: d.isoformat()),
                "momento": _moment.map(lambda m: m.isoformat()),
                "ativo": st.booleans(),
                "segmento": st.sampled_from(OPTIONS),
                "varios": st.lists(st.sampled_from(OPTIONS), unique=True, min_size=1),
            },
        ),
    }
)


async def test_values_survive_write_then_read(http: httpx.AsyncClient, make_account: MakeAccount) -> None:
    account = await make_account()
    for key, field_type, options in (
        ("texto", "text", []),
        ("nota", "long_text", []),
        ("inteiro", "number", []),
        ("decimal", "decimal", []),
        ("data", "date", []),
        ("momento", "datetime", []),
        ("ativo", "boolean", []),
        ("segmento", "single_select", OPTIONS),
        ("varios", "multi_select", OPTIONS),
    ):
        await add_custom_field(http, account.headers, key=key, label=key, type=field_type, options=options)

    # hypothesis drives a sync test; run each example through the async client ourselves.
    examples: list[dict[str, object]] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(contact_values)
    def collect(values: dict[str, object]) -> None:
        examples.append(values)

    collect()
    for values in examples:
        values = {**values, "owner_id": account.owner_ids[0]}
        created = await http.post("/v1/contacts", json=values, headers=account.headers)
        assert created.status_code == 201, (values, created.text)
        read = (await http.get(f"/v1/contacts/{created.json()['id']}", headers=account.headers)).json()
        for key, value in values.items():
            assert read[key] == value, key
