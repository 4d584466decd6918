"""The export service's sweep of abandoned uploads, against the real SeaweedFS: an
unfinished multipart upload older than the age limit is aborted, a recent one (an export
being uploaded right now) is left alone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from services.export.service_layer.build_export import abort_abandoned_uploads
from shared.s3 import ObjectStore
from shared.settings import S3Settings
from tests.integration.platform.test_s3_multipart_cleanup import begin_upload
from tests.support.stack import S3_ENDPOINT


async def test_the_sweep_aborts_old_unfinished_uploads_and_keeps_recent_ones() -> None:
    store = ObjectStore(S3Settings(endpoint=S3_ENDPOINT))
    await store.ensure_bucket()
    prefix = f"tests/sweep/{uuid.uuid4()}/"
    await asyncio.to_thread(begin_upload, store, f"{prefix}7/{uuid.uuid4()}/contatos.csv", 1)

    assert await abort_abandoned_uploads(store, timedelta(days=1), prefix) == 0
    assert len(await store.incomplete_uploads(prefix)) == 1  # begun just now: in progress

    assert await abort_abandoned_uploads(store, timedelta(0), prefix) == 1
    assert await store.incomplete_uploads(prefix) == []
