"""CloudEvents 1.0 in structured mode over Kafka (the CloudEvents Kafka protocol binding):
the whole event is the record value, with header `content-type:
application/cloudevents+json`; the record key is the job id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
SPEC_VERSION = "1.0"

DataT = TypeVar("DataT", bound=BaseModel)


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 event whose `data` is one of the contract's payloads."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    specversion: str = Field(SPEC_VERSION, description="CloudEvents version.")
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), description="Unique per event.")
    source: str = Field(description="The producing service, e.g. `/crm-bulk/export`.")
    type: str = Field(description="Equals the Kafka topic name.")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = Field(None, description="The job id (export or import).")
    datacontenttype: str = "application/json"
    data: DataT


def make_event(source: str, topic: str, subject: str, data: DataT) -> CloudEvent[DataT]:
    return CloudEvent[DataT](source=source, type=topic, subject=subject, data=data)


def kafka_headers() -> dict[str, str]:
    return {"content-type": STRUCTURED_CONTENT_TYPE}


def event_body(event: CloudEvent[Any]) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()
