"""The object store adapter: a `minio` client (synchronous) driven from asyncio through
worker threads, with uploads of unknown length streamed as S3 multipart uploads, and the
clean-up of multipart uploads that a killed process left unfinished."""

from __future__ import annotations

import asyncio
import collections
import functools
import io
import logging
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from minio import Minio
from minio.datatypes import Part
from minio.error import S3Error
from minio.helpers import DictType, genheaders

from shared.settings import S3Settings

# S3 parts are at least 5 MiB (but the last); 8 MiB keeps a 1 GB file under 10,000 parts
# with room to spare.
PART_SIZE = 8 * 1024 * 1024
# Parts being uploaded (each by a worker thread: minio is synchronous) while the next one
# fills: uploading overlaps producing the data, and an upload holds about this many parts
# and the filling one in memory.
PARTS_IN_FLIGHT = 2
# What each part of a multipart upload is declared to be. S3 ignores a part's
# Content-Type (the object's is the one given when the upload begins), but SeaweedFS
# reads it: a part sent without one, or as application/octet-stream, is sniffed, and
# text is gzipped when written and gunzipped on every read. "binary/octet-stream"
# (S3's historical default type) is taken as opaque. Measured on a 310 MB CSV export
# (docs/benchmarks.md): SeaweedFS's CPU for the upload 6.8 -> 3.2-3.7 s, for a download
# 1.9 -> 0.4 s.
PART_CONTENT_TYPE = "binary/octet-stream"
# Uploads a ListMultipartUploads request returns at most (S3's own maximum).
_LIST_PAGE = 1000

log = logging.getLogger(__name__)


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


class _MultipartUpload:
    """One object's S3 multipart upload, begun with its first part. Parts are uploaded
    by worker threads, PARTS_IN_FLIGHT at a time, in the order they are added.

    minio's put_object streams an object of unknown length too, but from a file-like
    object read in its own thread (a queue between the event loop and that thread, and
    five copies of every byte on the way, measured: 17% of a CSV export's CPU), one part
    at a time, and without a Content-Type for the parts (see PART_CONTENT_TYPE). Its
    calls for the multipart requests themselves are private: minio is pinned, and
    tests/integration/platform/test_object_store.py runs them against SeaweedFS (as
    `_list_incomplete_uploads` does ListMultipartUploads)."""

    def __init__(self, client: Minio, bucket: str, key: str, headers: DictType) -> None:
        self._client, self._bucket, self._key, self._headers = client, bucket, key, headers
        self.upload_id: str | None = None
        self._creating: asyncio.Task[str] | None = None
        self._uploaded: list[Part] = []
        self._uploading: collections.deque[asyncio.Task[Part]] = collections.deque()

    # Every request runs in a worker thread that a cancellation cannot stop: the caller
    # waits for its task with asyncio.wait, which (unlike awaiting the task) does not
    # cancel it, so that `abort` finds and waits for whatever is still running. Else an
    # upload begun, or a part sent, after the abort would stay behind.

    @property
    def begun(self) -> bool:
        return self._creating is not None

    async def add_part(self, data: bytes) -> None:
        """Starts uploading `data` as the next part, once fewer than PARTS_IN_FLIGHT are;
        raises what made an earlier part fail."""
        if self._creating is None:
            headers = dict(self._headers)  # minio adds to them
            create = self._client._create_multipart_upload
            self._creating = asyncio.create_task(asyncio.to_thread(create, self._bucket, self._key, headers))
        if self.upload_id is None:
            await asyncio.wait([self._creating])
            self.upload_id = self._creating.result()
        while len(self._uploading) >= PARTS_IN_FLIGHT:
            await self._oldest_uploaded()
        number = len(self._uploaded) + len(self._uploading) + 1
        self._uploading.append(asyncio.create_task(asyncio.to_thread(self._upload_part, number, data)))

    async def _oldest_uploaded(self) -> None:
        oldest = self._uploading[0]
        await asyncio.wait([oldest])
        self._uploading.popleft()
        self._uploaded.append(oldest.result())

    def _upload_part(self, number: int, data: bytes) -> Part:
        assert self.upload_id is not None
        headers: DictType = {"Content-Type": PART_CONTENT_TYPE}
        etag = self._client._upload_part(self._bucket, self._key, data, headers, self.upload_id, number)
        return Part(number, etag)

    async def complete(self) -> str | None:
        """Waits for the parts, then makes them the object; returns its ETag. Cancelled
        while the object is being made, the whole object may still appear (never a part
        of it)."""
        assert self.upload_id is not None
        while self._uploading:
            await self._oldest_uploaded()
        result = await asyncio.to_thread(
            self._client._complete_multipart_upload, self._bucket, self._key, self.upload_id, self._uploaded
        )
        return result.etag

    async def abort(self) -> None:
        """Waits for the requests still running, then aborts the upload, which frees its
        parts. Cancelled meanwhile, it still does so in the background; failing, it
        leaves the upload to `ObjectStore.abort_incomplete_uploads`."""
        if self._creating is None:
            return
        aborting = asyncio.create_task(self._abort())
        _ABORTING.add(aborting)
        aborting.add_done_callback(_ABORTING.discard)
        await asyncio.shield(aborting)

    async def _abort(self) -> None:
        assert self._creating is not None
        running = [self._creating, *self._uploading]
        await asyncio.wait(running)
        for request in running[1:]:
            if not request.cancelled():
                request.exception()  # seen: the failure that ended the upload is already raised
        self._uploading.clear()
        if self._creating.cancelled() or self._creating.exception() is not None:
            return  # no upload was begun
        try:
            upload_id = self._creating.result()
            await asyncio.to_thread(self._client._abort_multipart_upload, self._bucket, self._key, upload_id)
        except Exception:
            log.warning("could not abort the multipart upload of %s; left to the sweep", self._key, exc_info=True)


# Aborts that outlive the task that was cancelled while they ran (asyncio keeps only weak
# references to tasks).
_ABORTING: set[asyncio.Task[None]] = set()


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
        """Streams chunks of unknown total length into one object: a single PUT when it
        is smaller than PART_SIZE, else a multipart upload. The object appears only when
        the upload completes; any failure (of `chunks`, of S3, or a cancellation) aborts
        the multipart upload, so no partial object is ever visible under `key` (cancelled
        while the object is being made, the whole of it may still appear). Only a killed
        process leaves its upload behind: see `abort_incomplete_uploads`."""
        headers = genheaders(metadata, None, None, None, False)  # type: ignore[arg-type]
        headers["Content-Type"] = content_type
        upload = _MultipartUpload(self._client, self.bucket, key, headers)
        filling: list[bytes] = []
        filled = size = 0
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                filling.append(chunk)
                filled += len(chunk)
                size += len(chunk)
                if filled >= PART_SIZE:
                    # Parts need not be of one size: a part is whole chunks, joined once.
                    part = b"".join(filling)
                    filling.clear()
                    filled = 0
                    await upload.add_part(part)
            last = b"".join(filling)
            if not upload.begun:
                put = functools.partial(
                    self._client.put_object,
                    self.bucket,
                    key,
                    io.BytesIO(last),
                    len(last),
                    content_type=content_type,
                    metadata=metadata,  # type: ignore[arg-type]
                    part_size=PART_SIZE,  # one PUT: minio's own default would cut parts of 5 MiB
                )
                result = await asyncio.to_thread(put)
                return StoredObject(key=key, size=size, etag=result.etag)
            if last:
                await upload.add_part(last)
            etag = await upload.complete()
        except BaseException:
            await upload.abort()
            raise
        return StoredObject(key=key, size=size, etag=etag)

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
