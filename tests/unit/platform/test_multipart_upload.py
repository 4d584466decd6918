"""The order of an upload's S3 requests when it is cancelled with requests still running
(worker threads a cancellation cannot stop), with a client that records its requests in
place of minio: tests/integration/platform/test_object_store.py runs the same code
against SeaweedFS, where these interleavings cannot be forced."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from minio.datatypes import Part

from shared import s3
from shared.s3 import PART_SIZE, ObjectStore
from shared.settings import S3Settings


class RecordingClient:
    """What ObjectStore calls of minio, each request taking the time its test gives."""

    def __init__(self, create_s: float = 0.0, part_s: dict[int, float] | None = None) -> None:
        self.create_s, self.part_s = create_s, part_s or {}
        self.events: list[str] = []
        self._lock = threading.Lock()

    def _log(self, event: str) -> None:
        with self._lock:
            self.events.append(event)

    def _create_multipart_upload(self, bucket: str, key: str, headers: dict[str, Any]) -> str:
        time.sleep(self.create_s)
        self._log("created")
        return "upload-1"

    def _upload_part(self, bucket: str, key: str, data: bytes, headers: Any, upload_id: str, number: int) -> str:
        time.sleep(self.part_s.get(number, 0.0))
        self._log(f"part {number}")
        return f"etag-{number}"

    def _complete_multipart_upload(self, bucket: str, key: str, upload_id: str, parts: list[Part]) -> Any:
        self._log(f"completed {[p.part_number for p in parts]}")
        return type("Result", (), {"etag": "etag"})()

    def _abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self._log(f"aborted {upload_id}")


def store_with(client: RecordingClient) -> ObjectStore:
    store = ObjectStore(S3Settings())
    store._client = client  # type: ignore[assignment]
    return store


async def parts(count: int, then_wait: bool = False) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"x" * PART_SIZE
    if then_wait:
        await asyncio.Event().wait()


async def cancelled_after(seconds: float, store: ObjectStore, source: AsyncIterator[bytes]) -> None:
    upload = asyncio.create_task(store.upload_stream("k", source))
    await asyncio.sleep(seconds)
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload


async def test_parts_are_numbered_in_order_and_completed_together() -> None:
    client = RecordingClient(part_s={1: 0.2, 2: 0.05})
    stored = await store_with(client).upload_stream("k", parts(4))
    assert stored.size == 4 * PART_SIZE
    assert client.events[0] == "created"
    assert client.events[-1] == "completed [1, 2, 3, 4]"


async def test_cancelled_while_waiting_for_room_aborts_after_every_part_ended() -> None:
    """The producer outruns S3: it waits in add_part for a part to end when it is
    cancelled; the slow first part must end before the abort, not land after it."""
    client = RecordingClient(part_s={1: 0.5, 2: 0.2})
    await cancelled_after(0.1, store_with(client), parts(10))
    assert client.events == ["created", "part 2", "part 1", "aborted upload-1"]


async def test_cancelled_while_the_upload_is_begun_aborts_it_once_begun() -> None:
    client = RecordingClient(create_s=0.3)
    await cancelled_after(0.1, store_with(client), parts(3))
    assert client.events == ["created", "aborted upload-1"]


async def test_cancelled_twice_still_aborts_in_the_background() -> None:
    """anyio cancels a task again at every await until it ends (Starlette, FastStream):
    the abort goes on, and is done once the running part has ended."""
    client = RecordingClient(part_s={1: 0.3})
    store = store_with(client)
    upload = asyncio.create_task(store.upload_stream("k", parts(1, then_wait=True)))
    await asyncio.sleep(0.05)
    upload.cancel()
    await asyncio.sleep(0.05)  # now waiting in abort for part 1
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert client.events == ["created"]
    await asyncio.wait(s3._ABORTING, timeout=5)
    assert client.events == ["created", "part 1", "aborted upload-1"]


async def test_a_failed_part_fails_the_upload_and_aborts_it() -> None:
    class FailingClient(RecordingClient):
        def _upload_part(self, bucket: str, key: str, data: bytes, headers: Any, upload_id: str, number: int) -> str:
            if number == 2:
                raise ConnectionError("S3 went away")
            return super()._upload_part(bucket, key, data, headers, upload_id, number)

    client = FailingClient()
    with pytest.raises(ConnectionError):
        await store_with(client).upload_stream("k", parts(5))
    assert client.events[-1] == "aborted upload-1"
    assert not any(event.startswith("completed") for event in client.events)
