"""What request handlers get from the composition root (bootstrap.py puts it on
`app.state.deps`)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.contacts.config import ContactsSettings


@dataclass
class ContactsDeps:
    settings: ContactsSettings
    pool: asyncpg.Pool
