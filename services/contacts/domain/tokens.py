"""API tokens: what a user is shown once, and what the database keeps (its hash)."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "crmb_"  # noqa: S105 - a public prefix, not a secret


def generate_token() -> str:
    """A new random token; the prefix lets secret scanners and humans recognise it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # A token holds 256 random bits, so a fast unsalted hash is enough: there is nothing
    # to brute-force, and a hash lets a request find its token with one index lookup.
    return hashlib.sha256(token.encode()).hexdigest()
