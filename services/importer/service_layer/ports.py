"""What the importer's use cases need from the outside world, as protocols: the real
adapters (shared.contacts_client, shared.s3, shared.kafka) fit them, and so do the
in-memory fakes of the tests."""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable
from pathlib import Path
from typing import Protocol

import pydantic

from shared.contacts_api import (
    AccountContext,
    BulkApplyRequest,
    BulkApplyResult,
    ContactLookup,
    ContactLookupRequest,
)
from shared.s3 import StoredObject


class ContactsGateway(Protocol):
    async def account_context(self, account_id: int) -> AccountContext: ...

    async def lookup(self, account_id: int, request: ContactLookupRequest) -> ContactLookup: ...

    async def bulk_apply(self, account_id: int, request: BulkApplyRequest) -> BulkApplyResult: ...


class FileStore(Protocol):
    async def upload_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str = ...,
        metadata: dict[str, str] | None = ...,
    ) -> StoredObject: ...

    async def download_to_file(self, key: str, path: Path) -> None: ...


# (topic, job id, data): publishes one CloudEvent keyed by the job id.
PublishEvent = Callable[[str, str, pydantic.BaseModel], Awaitable[object]]
