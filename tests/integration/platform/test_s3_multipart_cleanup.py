"""Multipart uploads left unfinished, against the real SeaweedFS: `ObjectStore` lists and
aborts them under a key prefix (what a new attempt of an export does for the uploads of a
killed one), and `upload_stream` aborts its own upload on every failure, without hanging."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from minio.error import S3Error

import shared.s3
from shared.s3 import PART_SIZE, IncompleteUpload, ObjectStore
from shared.settings import S3Settings
from tests.support.stack import S3_ENDPOINT

MiB = 1024 * 1024
# Longer than any of these uploads takes; a hang shows as a timeout, not a stuck run.
NO_HANG_S = 30


@pytest.fixture
async def store() -> ObjectStore:
    store = ObjectStore(S3Settings(endpoint=S3_ENDPOINT))
    await store.ensure_bucket()
    return store


def new_prefix() -> str:
    return f"tests/multipart/{uuid.uuid4()}/"


def begin_upload(store: ObjectStore, key: str, parts: int = 0) -> str:
    """An incomplete multipart upload of `key` with `parts` stored parts of 5 MiB: what a
    process killed during an upload leaves."""
    upload_id = store._client._create_multipart_upload(store.bucket, key, {})
    for number in range(1, parts + 1):
        store._client._upload_part(store.bucket, key, os.urandom(5 * MiB), None, upload_id, number)
    return upload_id


async def test_aborting_under_a_prefix_frees_every_unfinished_upload_there_and_nothing_else(
    store: ObjectStore,
) -> None:
    prefix = new_prefix()
    mine = [
        await asyncio.to_thread(begin_upload, store, f"{prefix}contatos.csv", 2),
        await asyncio.to_thread(begin_upload, store, f"{prefix}contatos.csv"),  # the same key again
        await asyncio.to_thread(begin_upload, store, f"{prefix}sub/contatos.xlsx", 1),
    ]
    # A sibling whose name starts with the prefix's last segment, and a finished object.
    sibling = prefix.rstrip("/") + "0/contatos.csv"
    theirs = await asyncio.to_thread(begin_upload, store, sibling)
    finished = await store.upload_stream(f"{prefix}done.csv", one_chunk(b"ID;Nome\r\n"))

    listed = await store.incomplete_uploads(prefix)
    assert sorted(u.upload_id for u in listed) == sorted(mine)
    assert all(isinstance(u.initiated, datetime) for u in listed)

    assert await store.abort_incomplete_uploads(prefix) == 3
    assert await store.incomplete_uploads(prefix) == []
    assert await store.abort_incomplete_uploads(prefix) == 0, "nothing left to abort"
    assert [u.upload_id for u in await store.incomplete_uploads(sibling)] == [theirs]
    assert await store.stat(finished.key) is not None, "a completed object is no upload"
    await store.abort_incomplete_uploads(sibling)


async def test_listing_pages_through_more_uploads_than_a_page(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared.s3, "_LIST_PAGE", 2)
    prefix = new_prefix()
    keys = [f"{prefix}a", f"{prefix}b", f"{prefix}b", f"{prefix}b", f"{prefix}c"]
    begun = [await asyncio.to_thread(begin_upload, store, key) for key in keys]

    listed = await store.incomplete_uploads(prefix)

    assert sorted(u.upload_id for u in listed) == sorted(begun), "each upload once, across 3 pages"
    assert await store.abort_incomplete_uploads(prefix) == len(begun)
    assert await store.incomplete_uploads(prefix) == []


async def test_only_uploads_begun_before_a_time_are_aborted_when_asked(store: ObjectStore) -> None:
    prefix = new_prefix()
    old = await asyncio.to_thread(begin_upload, store, f"{prefix}old")
    await asyncio.sleep(1.5)  # the server records the time to the second
    cutoff = datetime.now(UTC)
    await asyncio.sleep(1.5)
    new = await asyncio.to_thread(begin_upload, store, f"{prefix}new")

    assert await store.abort_incomplete_uploads(prefix, initiated_before=cutoff) == 1
    assert [u.upload_id for u in await store.incomplete_uploads(prefix)] == [new]
    assert old != new
    await store.abort_incomplete_uploads(prefix)


async def test_an_upload_aborted_meanwhile_by_someone_else_is_no_error(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = new_prefix()
    upload_id = await asyncio.to_thread(begin_upload, store, f"{prefix}f")
    seen = await store.incomplete_uploads(prefix)
    await asyncio.to_thread(store._client._abort_multipart_upload, store.bucket, f"{prefix}f", upload_id)

    async def as_listed_before(_: str) -> list[IncompleteUpload]:
        return seen

    monkeypatch.setattr(store, "incomplete_uploads", as_listed_before)
    assert await store.abort_incomplete_uploads(prefix) == 0


async def test_an_empty_prefix_is_refused(store: ObjectStore) -> None:
    with pytest.raises(ValueError, match="prefix"):
        await store.abort_incomplete_uploads("")


# --- upload_stream aborts its own upload on every failure ----------------------------


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def endless(progress: list[float] | None = None) -> AsyncIterator[bytes]:
    """1 MiB chunks for ever; `progress` gets the time of each chunk taken."""
    while True:
        yield os.urandom(MiB)
        if progress is not None:
            progress.append(time.monotonic())
        await asyncio.sleep(0)


def injected_error(code: str) -> S3Error:
    return S3Error(code, "injected by the test", f"/{code}", "request", "host", None)  # type: ignore[arg-type]


async def test_s3_failing_to_begin_the_upload_while_the_source_waits_for_room_is_raised(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first part is read, the chunk queue fills behind it, then S3 refuses the
    upload: this used to leave the producer waiting for room for ever."""
    key = f"{new_prefix()}f"
    begin = store._client._create_multipart_upload

    def refuse(*args: object, **kwargs: object) -> str:
        time.sleep(1)  # long enough for the source to fill the queue and wait
        raise injected_error("ServiceUnavailable")

    monkeypatch.setattr(store._client, "_create_multipart_upload", refuse)
    with pytest.raises(S3Error, match="ServiceUnavailable"):
        await asyncio.wait_for(store.upload_stream(key, endless()), NO_HANG_S)
    monkeypatch.setattr(store._client, "_create_multipart_upload", begin)
    assert await store.stat(key) is None
    assert await store.incomplete_uploads(key) == []


async def test_a_part_refused_by_s3_aborts_the_upload(store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    key = f"{new_prefix()}f"
    upload_part = store._client._upload_part

    def refuse_the_second(*args: object, **kwargs: object) -> str:
        if args[5] == 2:  # (bucket, key, data, headers, upload_id, part_number)
            raise injected_error("InternalError")
        return upload_part(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store._client, "_upload_part", refuse_the_second)

    async def three_parts() -> AsyncIterator[bytes]:
        for _ in range(3 * PART_SIZE // MiB):
            yield os.urandom(MiB)

    with pytest.raises(S3Error, match="InternalError"):
        await asyncio.wait_for(store.upload_stream(key, three_parts()), NO_HANG_S)
    assert await store.stat(key) is None
    assert await store.incomplete_uploads(key) == []


async def test_cancelled_while_s3_is_slow_and_the_queue_is_full_aborts_the_upload(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled (a shutdown, a timeout) while the part uploads are stalled and the chunk
    queue is full: this used to hang minio's thread, and the cancellation with it."""
    key = f"{new_prefix()}f"
    stall = threading.Event()
    upload_part = store._client._upload_part

    def stalled(*args: object, **kwargs: object) -> str:
        stall.wait(NO_HANG_S)
        return upload_part(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store._client, "_upload_part", stalled)
    progress: list[float] = [time.monotonic()]
    upload = asyncio.create_task(store.upload_stream(key, endless(progress)))

    async def source_no_longer_read() -> None:
        # (No event to wait for: the upload takes nothing more from the source.)
        while time.monotonic() - progress[-1] < 1.0:  # noqa: ASYNC110
            await asyncio.sleep(0.1)

    await asyncio.wait_for(source_no_longer_read(), NO_HANG_S)
    assert await store.incomplete_uploads(key) != [], "the multipart upload had begun"

    upload.cancel()
    stall.set()
    done, _ = await asyncio.wait({upload}, timeout=NO_HANG_S)
    assert done and upload.cancelled(), "the cancelled upload ended"
    assert await store.stat(key) is None
    assert await store.incomplete_uploads(key) == []
