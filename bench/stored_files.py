"""Removing what a benchmark run left in the object store: an export of the bench
account is ~310 MB, and runs add up (the local store's disk is the machine's)."""

from __future__ import annotations

import asyncio

from shared.s3 import create_client
from shared.settings import S3Settings
from tests.support.stack import S3_ENDPOINT


def _remove_under(bucket: str, prefix: str) -> int:
    client = create_client(S3Settings(endpoint=S3_ENDPOINT))
    removed = 0
    for stored in client.list_objects(bucket, prefix=prefix, recursive=True):
        if stored.object_name is not None:
            client.remove_object(bucket, stored.object_name)
            removed += 1
    return removed


async def remove_under(bucket: str, prefix: str) -> int:
    """Removes every object whose key starts with `prefix`, one export's or import's
    folder; returns how many."""
    # Only an export's or an import's own folder: exports/<account>/<export id>/.
    if not prefix.startswith(("exports/", "imports/")) or prefix.count("/") != 3 or "//" in prefix:
        raise ValueError(f"not the folder of one export or import: {prefix!r}")
    return await asyncio.to_thread(_remove_under, bucket, prefix)
