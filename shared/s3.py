"""The object store adapter: a `minio` client (synchronous) driven from asyncio through
worker threads, with uploads of unknown length streamed as S3 multipart uploads."""

from __future__ import annotations

import asyncio
import contextlib
import io
import queue
import threading
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, cast

from minio import Minio
from minio.error import S3Error

from shared.settings import S3Settings

# S3 parts are at least 5 MiB (but the last); 8 MiB keeps a 1 GB file under 10,000 parts
# with room to spare and bounds the memory of one upload to about one part.
PART_SIZE = 8 * 1024 * 1024
_QUEUED_CHUNKS = 8
_END = object()


def create_client(settings: S3Settings, *, public: bool = False) -> Minio:
    endpoint = (settings.public_endpoint or settings.endpoint) if public else settings.endpoint
    return Minio(
        endpoint,
        access_key=settings.access_key.get_secret_value(),
        secret_key=settings.secret_key.get_secret_value(),
        secure=settings.secure,
        # A known region skips the bucket-location request (and lets URLs be pre-signed
        # offline, for the public endpoint).
        region=settings.region,
    )


class _ChunkReader(io.RawIOBase):
    """A file-like view of chunks handed over from the event loop, for minio's thread."""

    def __init__(self) -> None:
        self._chunks: queue.Queue[object] = queue.Queue(maxsize=_QUEUED_CHUNKS)
        # A bytearray: appending chunks to bytes would copy the part again at every chunk.
        self._buffer = bytearray()
        self._ended = False
        self.cancelled = threading.Event()

    def readable(self) -> bool:
        return True

    def put(self, chunk: object) -> None:
        while not self.cancelled.is_set():
            try:
                self._chunks.put(chunk, timeout=0.5)
                return
            except queue.Full:
                continue
        raise RuntimeError("upload was abandoned")

    def read(self, size: int = -1) -> bytes:
        while not self._ended and (size < 0 or len(self._buffer) < size):
            item = self._chunks.get()
            if item is _END:
                self._ended = True
            elif isinstance(item, BaseException):
                raise item
            else:
                assert isinstance(item, bytes)
                self._buffer += item
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    etag: str | None


class ObjectStore:
    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self._client = create_client(settings)
        self._public_client = create_client(settings, public=True)

    async def ensure_bucket(self) -> None:
        def make() -> None:
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise

        await asyncio.to_thread(make)

    async def is_ready(self) -> bool:
        try:
            return await asyncio.to_thread(self._client.bucket_exists, self.bucket)
        except Exception:
            return False

    async def upload_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> StoredObject:
        """Streams chunks of unknown total length into one object (multipart). The object
        appears only when the upload completes; a failure aborts the multipart upload, so
        no partial object is ever visible under `key`."""
        reader = _ChunkReader()
        upload = asyncio.create_task(
            asyncio.to_thread(
                self._client.put_object,
                self.bucket,
                key,
                cast(BinaryIO, reader),
                length=-1,
                part_size=PART_SIZE,
                content_type=content_type,
                metadata=metadata,  # type: ignore[arg-type]
            )
        )
        size = 0
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                await asyncio.to_thread(reader.put, chunk)
                if upload.done():
                    break  # it failed early; its exception is raised below
            else:
                await asyncio.to_thread(reader.put, _END)
        except BaseException as exc:
            reader.cancelled.set()
            # Let minio's thread fail its read, so that it aborts the multipart upload.
            with contextlib.suppress(queue.Full):
                reader._chunks.put_nowait(RuntimeError(f"upload abandoned: {exc!r}"))
            await asyncio.gather(upload, return_exceptions=True)
            raise
        result = await upload
        return StoredObject(key=key, size=size, etag=result.etag)

    async def upload_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        result = await asyncio.to_thread(
            self._client.fput_object, self.bucket, key, str(path), content_type=content_type, part_size=PART_SIZE
        )
        size = await asyncio.to_thread(lambda: path.stat().st_size)
        return StoredObject(key=key, size=size, etag=result.etag)

    async def download_to_file(self, key: str, path: Path) -> None:
        await asyncio.to_thread(self._client.fget_object, self.bucket, key, str(path))

    async def stat(self, key: str) -> StoredObject | None:
        try:
            info = await asyncio.to_thread(self._client.stat_object, self.bucket, key)
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchObject", "NotFound"}:
                return None
            raise
        return StoredObject(key=key, size=info.size or 0, etag=info.etag)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._client.remove_object, self.bucket, key)

    def presigned_get_url(
        self, key: str, expires: timedelta, download_name: str | None = None
    ) -> str:
        """Signed for the public endpoint, offline (the region is configured)."""
        headers: dict[str, str | list[str] | tuple[str]] | None = None
        if download_name is not None:
            headers = {"response-content-disposition": f'attachment; filename="{download_name}"'}
        return self._public_client.presigned_get_object(
            self.bucket, key, expires=expires, response_headers=headers
        )
