"""The XLSX export reads the selection stream without pydantic's validation
(StreamedContact): it must read every line as ContactRecord does, and refuse what is
no contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contacts_api import ContactRecord, StreamedContact
from tests.unit.export.strategies import texts

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
_instants = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3)), timezone(timedelta(hours=5, minutes=30))]),
)
contacts = st.builds(
    ContactRecord,
    id=st.integers(1, 2**63 - 1),
    account_id=st.integers(1, 2**31),
    name=texts,
    emails=st.lists(texts, max_size=3),
    phones=st.lists(texts, max_size=3),
    company=st.none() | texts,
    job_title=st.none() | texts,
    lifecycle_stage=st.none() | texts,
    owner_id=st.none() | st.integers(1, 2**31),
    legal_entity=st.none() | st.booleans(),
    tags=st.lists(texts, max_size=3),
    custom_fields=st.dictionaries(texts, _json_values, max_size=5),
    created_at=_instants,
    updated_at=_instants,
    version=st.integers(1, 2**31),
)


@given(contacts)
def test_a_streamed_contact_reads_as_a_contact_record(record: ContactRecord) -> None:
    line = record.model_dump_json().encode()
    streamed = StreamedContact.from_json(line)
    validated = ContactRecord.model_validate_json(line)
    for name in ContactRecord.model_fields:
        assert getattr(streamed, name) == getattr(validated, name), name
        assert type(getattr(streamed, name)) is type(getattr(validated, name)), name


def test_nulls_for_lists_read_as_empty() -> None:
    # PostgreSQL's json_build_object writes a NULL array column as null.
    line = (
        b'{"id": 7, "account_id": 1, "name": "Ana", "emails": null, "phones": null, "company": null, '
        b'"job_title": null, "lifecycle_stage": null, "owner_id": null, "legal_entity": null, "tags": null, '
        b'"custom_fields": null, "created_at": "2024-01-15T10:00:00+00:00", '
        b'"updated_at": "2024-01-15T10:00:00-03:00", "version": 1}'
    )
    streamed = StreamedContact.from_json(line)
    assert (streamed.emails, streamed.phones, streamed.tags, streamed.custom_fields) == ([], [], [], {})
    assert streamed.updated_at == datetime(2024, 1, 15, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"id": 7}',
        b'{"id": "7", "account_id": 1, "name": "", "emails": [], "phones": [], "company": null, "job_title": null, '
        b'"lifecycle_stage": null, "owner_id": null, "legal_entity": null, "tags": [], "custom_fields": {}, '
        b'"created_at": "2024-01-15T10:00:00+00:00", "updated_at": "2024-01-15T10:00:00+00:00", "version": 1}',
        b'{"id": 7, "account_id": 1, "name": "", "emails": [], "phones": [], "company": null, "job_title": null, '
        b'"lifecycle_stage": null, "owner_id": null, "legal_entity": null, "tags": [], "custom_fields": {}, '
        b'"created_at": "2024-01-15T10:00:00", "updated_at": "2024-01-15T10:00:00+00:00", "version": 1}',
        b'{"id": 7, "account_id": 1, "name": "", "emails": [], "phones": [], "company": null, "job_title": null, '
        b'"lifecycle_stage": null, "owner_id": null, "legal_entity": null, "tags": [], "custom_fields": {}, '
        b'"created_at": 5, "updated_at": "2024-01-15T10:00:00+00:00", "version": 1}',
    ],
    ids=["empty", "not json", "array", "fields missing", "id as text", "naive timestamp", "timestamp as number"],
)
def test_a_line_that_is_no_contact_is_refused(line: bytes) -> None:
    with pytest.raises(ValueError, match="not a contact"):
        StreamedContact.from_json(line)
