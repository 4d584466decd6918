"""What PostgreSQL can take of the values that come from outside: an integer past its
column's type or text holding NUL fails in asyncpg or in the server, after validation, as
a 500 or a failed batch. The APIs and rules check these first, so that the caller gets a
422 (or a row's error) that says which value is wrong."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

INT_MAX = 2**31 - 1  # integer (row numbers, sequence numbers)
BIGINT_MAX = 2**63 - 1  # bigint (ids)
NUL = "\x00"
NUL_MESSAGE = "holds the character NUL (U+0000), which cannot be stored"

# A row id (contacts, users, accounts, tokens): identity columns count from 1.
DatabaseId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]


def holds_nul(value: Any) -> bool:
    """Whether text anywhere in a JSON-like value (keys too) holds NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


def _without_nul(text: str) -> str:
    if NUL in text:
        raise ValueError(NUL_MESSAGE)
    return text


# Text that is stored or compared in PostgreSQL, whose text type cannot hold NUL.
StorableText = Annotated[str, AfterValidator(_without_nul)]
