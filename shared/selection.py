"""The contact filter and selection of CONTRACT.md ("Selection"), shared by the list API,
the export command and the contacts service's selection reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.bounds import NUL_MESSAGE, DatabaseId, StorableText, holds_nul


class ContactFilter(BaseModel):
    """Every condition is optional; given ones are combined with AND."""

    model_config = ConfigDict(extra="forbid")

    q: StorableText | None = Field(
        None,
        description="Text found in name, email, phone or company (case and accents ignored).",
        examples=["silva"],
    )
    owner_ids: list[DatabaseId] | None = Field(None, description="Owner (Responsável) is one of these users.")
    lifecycle_stages: list[StorableText] | None = Field(
        None, description="Lifecycle stage key is one of these.", examples=[["lead", "cliente"]]
    )
    tags: list[StorableText] | None = Field(None, description="Has any of these tags.")
    legal_entity: bool | None = Field(None, description="Company (true) or person (false).")
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    custom: dict[str, Any] | None = Field(
        None,
        description="Custom field key to value; a contact matches when its value equals it "
        "(for multi-select fields: contains it). Decimals compare as numbers (10.5 matches a "
        "stored 10.50), datetimes as instants (any UTC offset); an empty value matches "
        "contacts without one.",
        examples=[{"segmento": "Varejo"}],
    )

    @field_validator("custom")
    @classmethod
    def _custom_values_storable(cls, custom: dict[str, Any] | None) -> dict[str, Any] | None:
        # The filter is stored with the export (jsonb) and compared in SQL: no NUL at any depth.
        for key, value in (custom or {}).items():
            if holds_nul(key) or holds_nul(value):
                raise ValueError(f"custom.{key}: {NUL_MESSAGE}")
        return custom


class Selection(BaseModel):
    """Exactly one of `ids`, `filter` or `all`."""

    model_config = ConfigDict(extra="forbid")

    ids: list[DatabaseId] | None = Field(None, description="These contacts.", max_length=100_000)
    filter: ContactFilter | None = Field(None, description="Every contact that matches.")
    all: Literal[True] | None = Field(None, description="Every contact of the account.")
    exclude_ids: list[DatabaseId] | None = Field(
        None, description="With `filter` or `all`: all matching but these.", max_length=100_000
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name in ("ids", "filter", "all") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a selection has exactly one of 'ids', 'filter' or 'all'")
        if self.ids is not None and self.exclude_ids:
            raise ValueError("'exclude_ids' goes with 'filter' or 'all', not with 'ids'")
        return self
