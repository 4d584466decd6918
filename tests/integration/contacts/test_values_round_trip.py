"""Property: whatever valid values a contact gets, it reads back exactly as written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import asyncpg
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.contacts.adapters import contact_reads
from shared.contacts_api import ContactLookupRequest
from shared.contacts_client import ContactsClient
from shared.selection import Selection
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


CUSTOM_FIELDS = (
    ("texto", "text", []),
    ("nota", "long_text", []),
    ("inteiro", "number", []),
    ("decimal", "decimal", []),
    ("data", "date", []),
    ("momento", "datetime", []),
    ("ativo", "boolean", []),
    ("segmento", "single_select", OPTIONS),
    ("varios", "multi_select", OPTIONS),
)


async def test_values_survive_write_then_read(http: httpx.AsyncClient, make_account: MakeAccount) -> None:
    account = await make_account()
    for key, field_type, options in CUSTOM_FIELDS:
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


async def test_lookup_and_stream_json_equal_the_stored_records(
    http: httpx.AsyncClient, contacts_client: ContactsClient, pool: asyncpg.Pool, make_account: MakeAccount
) -> None:
    """The lookup and the selection stream send JSON built by PostgreSQL; the records
    the importer and the export validate from it equal those asyncpg reads (types,
    time zones, big numbers, every custom field type)."""
    account = await make_account()
    for key, field_type, options in CUSTOM_FIELDS:
        await add_custom_field(http, account.headers, key=key, label=key, type=field_type, options=options)
    examples: list[dict[str, object]] = []

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(contact_values)
    def collect(values: dict[str, object]) -> None:
        examples.append(values)

    collect()
    ids = []
    for values in examples:
        body = {**values, "owner_id": account.owner_ids[0]}
        created = await http.post("/v1/contacts", json=body, headers=account.headers)
        assert created.status_code == 201, (values, created.text)
        ids.append(created.json()["id"])
    async with pool.acquire() as conn:
        stored = await contact_reads.get_contacts(conn, account.id, ids)
    emails = sorted({e for values in examples for e in values["emails"]})  # type: ignore[attr-defined]
    lookup = await contacts_client.lookup(account.id, ContactLookupRequest(ids=ids, emails=emails))
    streamed = [r async for r in contacts_client.stream_selection(account.id, Selection(ids=ids))]
    assert len(stored) == len(ids)
    for expected, looked_up, from_stream in zip(stored, lookup.contacts, streamed, strict=True):
        assert looked_up.model_dump() == expected.model_dump()
        assert from_stream.model_dump() == expected.model_dump()
    assert lookup.email_owners == {email: sorted(r.id for r in stored if email in r.emails) for email in emails}
