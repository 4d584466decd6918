"""The object store adapter: a `minio` client (synchronous) driven from asyncio through
worker threads, with uploads of unknown length streamed as S3 multipart uploads, and the
clean-up of multipart uploads that a killed process left unfinished."""

from __future__ import annotations

import asyncio
import io
import queue
import threading
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, cast

from minio import Minio
from minio.error import S3Error
from minio.helpers import ObjectWriteResult

from shared.settings import S3Settings

# S3 parts are at least 5 MiB (but the last); 8 MiB keeps a 1 GB file under 10,000 parts
# with room to spare and bounds the memory of one upload to about one part.
PART_SIZE = 8 * 1024 * 1024
_QUEUED_CHUNKS = 8
# How often a side blocked on the queue between the event loop and minio's thread looks
# whether the other side has stopped.
_POLL_S = 0.2
# Uploads a ListMultipartUploads request returns at most (S3's own maximum).
_LIST_PAGE = 1000
_END = object()


# What each part of a multipart upload is declared to be. S3 ignores a part's
# Content-Type (the object's is the one given when the upload begins), but SeaweedFS
# reads it: a part sent without one, or as application/octet-stream, is sniffed, and
# text is gzipped when written and gunzipped on every read. "binary/octet-stream"
# (S3's historical default type) is taken as opaque. Measured on a 310 MB CSV export
# (docs/benchmarks.md): SeaweedFS's CPU for the upload 6.8 -> 3.5 s, for a download
# 1.9 -> 0.4 s.
PART_CONTENT_TYPE = "binary/octet-stream"


class _Minio(Minio):
    """minio's client, but for the Content-Type of the parts it uploads."""

    def _upload_part(  # type: ignore[override]
        self,
        bucket_name: str,
        object_name: str,
        data: bytes,
        headers: dict[str, str] | None,
        upload_id: str,
        part_number: int,
    ) -> str:
        headers = {**(headers or {}), "Content-Type": PART_CONTENT_TYPE}
        return super()._upload_part(bucket_name, object_name, data, headers, upload_id, part_number)  # type: ignore[arg-type]


def create_client(settings: S3Settings, *, public: bool = False) -> Minio:
    endpoint = (settings.public_endpoint or settings.endpoint) if public else settings.endpoint
    return _Minio(
        endpoint,
        access_key=settings.access_key.get_secret_value(),
        secret_key=settings.secret_key.get_secret_value(),
        secure=settings.secure,
        # A known region skips the bucket-location request (and lets URLs be pre-signed
        # offline, for the public endpoint).
        region=settings.region,
    )


class _UploadEnded(Exception):
    """The other side of the chunk queue has stopped."""


class _ChunkReader(io.RawIOBase):
    """A file-like view of chunks handed over from the event loop, for minio's thread.

    Neither side ever waits on the queue for good: `stopped` is set when minio's thread
    returns or raises (a producer waiting for room then stops waiting) and when the
    producer fails or is cancelled (minio's next read then fails, and minio aborts the
    multipart upload). Before this, a producer that failed while the queue was full, or a
    minio thread that failed while the producer waited for room, hung the upload forever.
    """

    def __init__(self) -> None:
        self._chunks: queue.Queue[object] = queue.Queue(maxsize=_QUEUED_CHUNKS)
        # A bytearray: appending chunks to bytes would copy the part again at every chunk.
        self._buffer = bytearray()
        self._ended = False
        self.stopped = threading.Event()

    def readable(self) -> bool:
        return True

    def put(self, chunk: object) -> None:
        while not self.stopped.is_set():
            try:
                self._chunks.put(chunk, timeout=_POLL_S)
                return
            except queue.Full:
                continue
        raise _UploadEnded("the upload stopped reading")

    def read(self, size: int = -1) -> bytes:
        while not self._ended and (size < 0 or len(self._buffer) < size):
            if self.stopped.is_set():
                raise _UploadEnded("the producer of the upload's data stopped")
            try:
                item = self._chunks.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if item is _END:
                self._ended = True
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


@dataclass(frozen=True, slots=True)
class IncompleteUpload:
    """A multipart upload begun and neither completed nor aborted: its parts are stored
    (and take space) though no object shows them."""

    key: str
    upload_id: str
    initiated: datetime | None


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
        appears only when the upload completes; any failure (of `chunks`, of S3, or a
        cancellation) aborts the multipart upload, so no partial object is ever visible
        under `key`. Only a killed process leaves its upload behind: see
        `abort_incomplete_uploads`."""
        reader = _ChunkReader()

        def put_object() -> ObjectWriteResult:
            try:
                return self._client.put_object(
                    self.bucket,
                    key,
                    cast(BinaryIO, reader),
                    length=-1,
                    part_size=PART_SIZE,
                    content_type=content_type,
                    metadata=metadata,  # type: ignore[arg-type]
                )
            finally:
                reader.stopped.set()

        upload = asyncio.create_task(asyncio.to_thread(put_object))
        size = 0
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                await asyncio.to_thread(reader.put, chunk)
            await asyncio.to_thread(reader.put, _END)
        except _UploadEnded:
            await upload  # raises what ended it (minio aborted the multipart upload)
            raise RuntimeError(f"the upload of {key} ended before its data") from None
        except BaseException:
            # minio's next read fails, and minio aborts the multipart upload.
            reader.stopped.set()
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

    async def incomplete_uploads(self, prefix: str) -> list[IncompleteUpload]:
        """The multipart uploads under `prefix` that were neither completed nor aborted
        (a running upload is one of them)."""
        return await asyncio.to_thread(self._list_incomplete_uploads, prefix)

    async def abort_incomplete_uploads(self, prefix: str, initiated_before: datetime | None = None) -> int:
        """Aborts the multipart uploads under `prefix` that were neither completed nor
        aborted (optionally only those begun before `initiated_before`), which frees their
        parts; returns how many it aborted. A running upload under the prefix is aborted
        too (its completion then fails): call it where nothing else may legitimately be
        uploading under `prefix`, e.g. a new attempt of a job whose keys all lie under a
        prefix of its own and whose earlier attempts are fenced off. End the prefix with
        "/" to keep `jobs/12/` from matching `jobs/123/`."""
        uploads = await self.incomplete_uploads(prefix)
        stale = [u for u in uploads if initiated_before is None or (u.initiated and u.initiated < initiated_before)]

        def abort(upload: IncompleteUpload) -> bool:
            try:
                # AbortMultipartUpload (see `_list_incomplete_uploads` on minio's private API).
                self._client._abort_multipart_upload(self.bucket, upload.key, upload.upload_id)
            except S3Error as exc:
                if exc.code == "NoSuchUpload":  # completed or aborted meanwhile
                    return False
                raise
            return True

        aborted = 0
        for upload in stale:
            aborted += await asyncio.to_thread(abort, upload)
        return aborted

    def _list_incomplete_uploads(self, prefix: str) -> list[IncompleteUpload]:
        if not prefix:
            raise ValueError("a key prefix is required: an empty one means every upload of the bucket")
        found: list[IncompleteUpload] = []
        key_marker: str | None = None
        upload_id_marker: str | None = None
        while True:
            # ListMultipartUploads. minio 7 has no public call for it (its public one was
            # removed; the maintainers keep this private one "for advanced usage",
            # minio/minio-py#1008); minio is pinned, and
            # tests/integration/platform/test_s3_multipart_cleanup.py runs it on SeaweedFS.
            page = self._client._list_multipart_uploads(
                self.bucket,
                prefix=prefix,
                max_uploads=_LIST_PAGE,
                key_marker=key_marker,
                upload_id_marker=upload_id_marker,
            )
            found.extend(
                IncompleteUpload(key=u.object_name, upload_id=u.upload_id, initiated=u.initiated_time)
                for u in page.uploads
                if u.upload_id
            )
            if not page.is_truncated or not page.uploads:
                return found
            # The next page starts after the last upload of this one (minio 7.2.20 loses
            # NextUploadIdMarker: it stores it under a misspelt attribute).
            key_marker, upload_id_marker = page.uploads[-1].object_name, page.uploads[-1].upload_id

    def presigned_get_url(self, key: str, expires: timedelta, download_name: str | None = None) -> str:
        """Signed for the public endpoint, offline (the region is configured)."""
        headers: dict[str, str | list[str] | tuple[str]] | None = None
        if download_name is not None:
            headers = {"response-content-disposition": f'attachment; filename="{download_name}"'}
        return self._public_client.presigned_get_object(self.bucket, key, expires=expires, response_headers=headers)
