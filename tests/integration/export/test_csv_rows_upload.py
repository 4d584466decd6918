"""A CSV export's bytes from the contacts service's csv-rows stream to the object store
(the real SeaweedFS): the file is the header and the rows with CRLF line ends, and a
stream that breaks off leaves no object behind (the export is then retried)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from services.export.domain.columns import build_columns
from services.export.domain.csv_plan import csv_rows_plan
from services.export.domain.csv_records import CsvRecordEnds
from services.export.domain.csv_writer import csv_header
from services.export.service_layer import build_export
from shared.contacts_client import ContactsApiError, ContactsClient
from shared.s3 import ObjectStore
from shared.selection import Selection
from shared.settings import ContactsApiSettings, S3Settings
from tests.support.stack import S3_ENDPOINT
from tests.unit.export.factories import make_context

ROW = b'1001;Maria;"linha 1\nlinha 2";"a;b ""c"""\n'


@pytest.fixture(scope="module")
async def store(real_infra: None) -> ObjectStore:
    store = ObjectStore(S3Settings(endpoint=S3_ENDPOINT))
    await store.ensure_bucket()
    return store


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes], then: Exception | None) -> None:
        self.chunks, self.then = chunks, then

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.then is not None:
            raise self.then


def _contacts(chunks: list[bytes], then: Exception | None = None) -> ContactsClient:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/selection/csv-rows")
        return httpx.Response(200, stream=_Body(chunks, then), headers={"content-type": "text/csv"})

    settings = ContactsApiSettings(base_url="http://contacts", internal_token=SecretStr("t"))
    return ContactsClient(settings, transport=httpx.MockTransport(answer))


async def _upload(store: ObjectStore, contacts: ContactsClient, key: str) -> tuple[int, int]:
    context = make_context()
    columns = build_columns(context, "pt-BR", ["name"])
    plan = csv_rows_plan(Selection(all=True), columns, context, "pt-BR")
    records = CsvRecordEnds()
    rows = contacts.stream_selection_csv(context.account_id, plan)
    chunks = build_export.csv_file_chunks(csv_header(columns, "pt-BR").encode(), rows, records)
    stored = await store.upload_stream(key, chunks, content_type="text/csv")
    return stored.size, records.rows


async def test_the_file_is_the_header_and_the_rows_with_crlf(store: ObjectStore) -> None:
    body = ROW * 200
    key = f"tests/export/{uuid.uuid4()}.csv"
    size, rows = await _upload(store, _contacts([body[:7], body[7:5000], body[5000:]]), key)
    expected = "\ufeffID;Nome\r\n".encode() + b'1001;Maria;"linha 1\nlinha 2";"a;b ""c"""\r\n' * 200
    assert rows == 200 and size == len(expected)
    async with httpx.AsyncClient() as plain:
        stored = await plain.get(store.presigned_get_url(key, timedelta(minutes=5), "contatos.csv"))
    assert stored.content == expected


@pytest.mark.parametrize(
    ("chunks", "then"),
    [
        ([ROW * 50, ROW[:12]], httpx.ReadError("contacts service gone")),  # connection lost mid-stream
        ([ROW * 50, ROW[:12]], None),  # the stream ended in the middle of a row
    ],
)
async def test_a_stream_that_breaks_off_leaves_no_object(
    store: ObjectStore, chunks: list[bytes], then: Exception | None
) -> None:
    key = f"tests/export/{uuid.uuid4()}.csv"
    with pytest.raises(ContactsApiError) as broke:
        await _upload(store, _contacts(chunks, then), key)
    assert broke.value.status is None, "a broken stream is a transient error: the export is retried"
    assert await store.stat(key) is None
