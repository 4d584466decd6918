"""The S3 adapter against the real SeaweedFS: streamed multipart uploads of unknown
length, and pre-signed URLs whose signature and expiry the server checks."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from minio.error import S3Error

from shared.s3 import PART_SIZE, ObjectStore
from shared.settings import S3Settings
from tests.support.stack import S3_ENDPOINT, SEAWEEDFS_FILER_PORT

MiB = 1024 * 1024


@pytest.fixture(scope="module")
async def store() -> ObjectStore:
    store = ObjectStore(S3Settings(endpoint=S3_ENDPOINT))
    await store.ensure_bucket()
    return store


def new_key() -> str:
    return f"tests/platform/{uuid.uuid4()}.bin"


async def chunks_of(data: bytes, size: int = MiB - 17) -> AsyncIterator[bytes]:
    # Odd-sized chunks, so that part boundaries never line up with them.
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


async def test_unknown_length_upload_reads_back_identical(store: ObjectStore) -> None:
    data = os.urandom(2 * PART_SIZE + 3 * MiB + 5)  # three parts, the last one short
    key = new_key()

    stored = await store.upload_stream(key, chunks_of(data), content_type="application/octet-stream")

    assert stored.size == len(data)
    info = await store.stat(key)
    assert info is not None and info.size == len(data)
    assert (info.etag or "").endswith("-3"), f"expected a 3-part multipart upload, etag {info.etag}"
    url = store.presigned_get_url(key, timedelta(minutes=5), download_name="contatos.bin")
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(data).digest()
    assert "contatos.bin" in response.headers.get("content-disposition", "")


async def test_text_parts_are_stored_as_sent(store: ObjectStore) -> None:
    """SeaweedFS gzips parts it takes for text (and gunzips them on every read) unless
    they are declared opaque: the CSV exports' parts must be stored as sent, while the
    object keeps its own content type."""
    row = "1;Conceição Magalhães;conceicao@example.com.br;'+5511999990000;Lead;SIM;01/12/2026\r\n"
    data = (row * (PART_SIZE // len(row) + 2000)).encode()  # two parts of text
    key = f"tests/platform/{uuid.uuid4()}.csv"

    await store.upload_stream(key, chunks_of(data), content_type="text/csv; charset=utf-8")

    async with httpx.AsyncClient() as client:
        entry = (
            await client.get(f"http://127.0.0.1:{SEAWEEDFS_FILER_PORT}/buckets/{store.bucket}/{key}?metadata=true")
        ).json()
        assert entry["Mime"] == "text/csv; charset=utf-8"
        assert len(entry["chunks"]) >= 2
        assert [chunk.get("is_compressed", False) for chunk in entry["chunks"]] == [False] * len(entry["chunks"])
        response = await client.get(store.presigned_get_url(key, timedelta(minutes=5), download_name="contatos.csv"))
    assert response.content == data
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


async def test_tampered_presigned_url_is_refused(store: ObjectStore) -> None:
    key = new_key()
    await store.upload_stream(key, chunks_of(b"secret contacts"))
    other = new_key()
    await store.upload_stream(other, chunks_of(b"other contacts"))
    url = store.presigned_get_url(key, timedelta(minutes=5))
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    signature = query["X-Amz-Signature"]
    query["X-Amz-Signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]
    bad_signature = urlunsplit(parts._replace(query=urlencode(query)))
    other_object = urlunsplit(parts._replace(path=parts.path.replace(key, other)))
    longer = urlunsplit(parts._replace(query=parts.query.replace("X-Amz-Expires=300", "X-Amz-Expires=600")))

    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 200
        for tampered in (bad_signature, other_object, longer):
            assert tampered != url
            assert (await client.get(tampered)).status_code == 403, tampered


async def test_expired_presigned_url_is_refused(store: ObjectStore) -> None:
    key = new_key()
    await store.upload_stream(key, chunks_of(b"short-lived"))
    url = store.presigned_get_url(key, timedelta(seconds=1))
    await asyncio.sleep(2.5)
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 403


class SourceBroke(Exception):
    pass


@pytest.mark.parametrize("fail_after", [PART_SIZE + MiB, 2 * MiB], ids=["after-a-part", "in-first-part"])
async def test_failed_source_leaves_no_object(store: ObjectStore, fail_after: int) -> None:
    key = new_key()

    async def failing() -> AsyncIterator[bytes]:
        async for chunk in chunks_of(os.urandom(fail_after)):
            yield chunk
        raise SourceBroke("the export's database cursor died")

    with pytest.raises(SourceBroke):
        await store.upload_stream(key, failing())
    assert await store.stat(key) is None
    # ...and no multipart upload left behind, holding its parts (it was aborted).
    pending = await asyncio.to_thread(store._client._list_multipart_uploads, store.bucket, prefix=key)
    assert [u.object_name for u in pending.uploads] == []


@pytest.mark.parametrize(
    ("size", "parts"),
    [(0, 1), (PART_SIZE - 1, 1), (PART_SIZE, 1), (PART_SIZE + 1, 2), (2 * PART_SIZE, 2)],
    ids=["empty", "under-a-part", "a-part", "a-part-and-a-byte", "two-parts"],
)
async def test_sizes_around_a_part_read_back_identical(store: ObjectStore, size: int, parts: int) -> None:
    """A part is cut when PART_SIZE bytes or more are in (whole chunks): an object of
    exactly that size is one part of a multipart upload (no empty last part), a smaller
    one a single PUT."""
    data = os.urandom(size)
    key = new_key()

    stored = await store.upload_stream(key, chunks_of(data, size=MiB))

    info = await store.stat(key)
    assert info is not None and info.size == size == stored.size
    # A multipart upload's ETag ends with its number of parts; a single PUT's is an MD5.
    etag = info.etag or ""
    assert etag.endswith(f"-{parts}") if size >= PART_SIZE else "-" not in etag, etag
    async with httpx.AsyncClient() as client:
        response = await client.get(store.presigned_get_url(key, timedelta(minutes=5)))
    assert response.content == data


async def test_upload_aborted_meanwhile_fails_and_leaves_no_object(store: ObjectStore) -> None:
    """A newer attempt of an export aborts its predecessors' unfinished uploads: the
    older attempt, still streaming, must fail rather than report a file."""
    key = new_key()
    aborted = asyncio.Event()

    async def slow_source() -> AsyncIterator[bytes]:
        async for chunk in chunks_of(os.urandom(4 * PART_SIZE)):
            yield chunk
            if not aborted.is_set() and await store.incomplete_uploads(key):
                assert await store.abort_incomplete_uploads(key) == 1
                aborted.set()

    with pytest.raises(S3Error) as failure:
        await store.upload_stream(key, slow_source())
    assert aborted.is_set()
    assert failure.value.code == "NoSuchUpload"
    assert await store.stat(key) is None


async def test_cancelled_upload_leaves_no_object_and_no_upload(store: ObjectStore) -> None:
    """A cancelled export (its message handler stopped) cancels the upload with parts in
    flight: the multipart upload is aborted once they have ended."""
    key = new_key()
    started = asyncio.Event()

    async def stalls_after_three_parts() -> AsyncIterator[bytes]:
        async for chunk in chunks_of(os.urandom(3 * PART_SIZE + MiB)):
            yield chunk
        started.set()
        await asyncio.Event().wait()

    upload = asyncio.create_task(store.upload_stream(key, stalls_after_three_parts()))
    await asyncio.wait_for(started.wait(), 30)
    assert [u.key for u in await store.incomplete_uploads(key)] == [key]
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert await store.stat(key) is None
    assert await store.incomplete_uploads(key) == []
