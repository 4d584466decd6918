"""An in-memory stand-in for the contacts service's internal API (shared/contacts_api.py),
so the importer's integration tests run before (and without) the real service. It keeps a
change log like the real one, and answers a repeated bulk-apply key with the first
outcomes, as the contract says."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request

from shared.contacts_api import (
    INTERNAL_PREFIX,
    AccountContext,
    BulkApplyRequest,
    BulkApplyResult,
    ContactLookup,
    ContactLookupRequest,
    ContactRecord,
    LifecycleStage,
    Owner,
    RowOutcome,
    RowOutcomeKind,
    TokenIntrospection,
)

_ids = itertools.count(1_000_000)


@dataclass
class ChangeLogEntry:
    contact_id: int
    field: str
    new_value: Any
    import_id: str | None
    row_number: int | None


@dataclass
class FakeContacts:
    accounts: dict[int, AccountContext] = field(default_factory=dict)
    tokens: dict[str, TokenIntrospection] = field(default_factory=dict)
    contacts: dict[int, ContactRecord] = field(default_factory=dict)
    batches: dict[tuple[int, str], BulkApplyResult] = field(default_factory=dict)
    change_log: list[ChangeLogEntry] = field(default_factory=list)
    bulk_apply_calls: int = 0
    # Seconds to wait in each bulk apply: lets a test kill the importer mid-run.
    apply_delay_s: float = 0.0

    def add_account(self) -> tuple[int, str]:
        account_id = next(_ids)
        self.accounts[account_id] = AccountContext(
            account_id=account_id,
            name=f"Conta {account_id}",
            owners=[Owner(id=account_id * 10 + 1, name="Ana Souza", email=f"ana{account_id}@empresa.com.br")],
            lifecycle_stages=[
                LifecycleStage(key="lead", name="Lead", position=1),
                LifecycleStage(key="customer", name="Cliente", position=2),
            ],
            custom_fields=[],
        )
        token = f"token-{account_id}"
        self.tokens[token] = TokenIntrospection(account_id=account_id, token_id=account_id, user_id=7)
        return account_id, token

    def add_contact(self, account_id: int, name: str, **values: Any) -> ContactRecord:
        now = datetime.now(UTC)
        contact = ContactRecord(
            id=next(_ids), account_id=account_id, name=name, created_at=now, updated_at=now, version=1, **values
        )
        self.contacts[contact.id] = contact
        return contact

    def changes_of(self, import_id: str) -> list[ChangeLogEntry]:
        return [c for c in self.change_log if c.import_id == import_id]

    def apply(self, account_id: int, request: BulkApplyRequest) -> BulkApplyResult:
        key = (account_id, request.idempotency_key)
        if key in self.batches:
            first = self.batches[key]
            return BulkApplyResult(idempotency_key=first.idempotency_key, replayed=True, outcomes=first.outcomes)
        self.bulk_apply_calls += 1
        outcomes = [self._apply_row(account_id, request, row) for row in request.rows]
        result = BulkApplyResult(idempotency_key=request.idempotency_key, replayed=False, outcomes=outcomes)
        self.batches[key] = result
        return result

    def _apply_row(self, account_id: int, request: BulkApplyRequest, row: Any) -> RowOutcome:
        values = {k: v for k, v in row.values.items() if k in request.fields}
        if row.action == "create":
            contact = self.add_contact(
                account_id, values.pop("name", "") or "", tags=[request.tag] if request.tag else []
            )
            self._log(contact.id, "created", None, request, row.row_number)
            self._write(contact, values, request, row.row_number)
            return RowOutcome(row_number=row.row_number, outcome=RowOutcomeKind.CREATED, contact_id=contact.id)
        contact = self.contacts.get(row.contact_id or -1)
        if contact is None or contact.account_id != account_id:
            return RowOutcome(row_number=row.row_number, outcome=RowOutcomeKind.FAILED, reason="not found")
        changed = self._write(contact, values, request, row.row_number)
        if request.tag and request.tag not in self.contacts[contact.id].tags:
            self.contacts[contact.id] = self.contacts[contact.id].model_copy(
                update={"tags": [*self.contacts[contact.id].tags, request.tag]}
            )
            changed.append("tags")
        kind = RowOutcomeKind.UPDATED if changed else RowOutcomeKind.UNCHANGED
        return RowOutcome(row_number=row.row_number, outcome=kind, contact_id=contact.id, changed_fields=changed)

    def _write(self, contact: ContactRecord, values: dict[str, Any], request: BulkApplyRequest, row: int) -> list[str]:
        changed = []
        update: dict[str, Any] = {}
        for key, value in values.items():
            attribute = "owner_id" if key == "owner" else key
            if getattr(contact, attribute, None) != value:
                update[attribute] = value
                changed.append(key)
                self._log(contact.id, key, value, request, row)
        if update:
            update["version"] = contact.version + 1
            update["updated_at"] = datetime.now(UTC)
            self.contacts[contact.id] = contact.model_copy(update=update)
        return changed

    def _log(self, contact_id: int, name: str, value: Any, request: BulkApplyRequest, row: int) -> None:
        self.change_log.append(ChangeLogEntry(contact_id, name, value, request.import_id, row))


def fake_contacts_app(fake: FakeContacts) -> FastAPI:
    import asyncio

    app = FastAPI()

    def account(account_id: int) -> AccountContext:
        if account_id not in fake.accounts:
            raise HTTPException(404, "unknown account")
        return fake.accounts[account_id]

    @app.get(f"{INTERNAL_PREFIX}/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(f"{INTERNAL_PREFIX}/tokens/introspect")
    async def introspect(request: Request) -> TokenIntrospection:
        token = (await request.json())["token"]
        if token not in fake.tokens:
            raise HTTPException(401, "invalid token")
        return fake.tokens[token]

    @app.get(f"{INTERNAL_PREFIX}/accounts/{{account_id}}/context")
    async def context(account_id: int) -> AccountContext:
        return account(account_id)

    @app.post(f"{INTERNAL_PREFIX}/accounts/{{account_id}}/contacts/lookup")
    async def lookup(account_id: int, body: ContactLookupRequest) -> ContactLookup:
        account(account_id)
        found = [fake.contacts[i] for i in body.ids if i in fake.contacts and fake.contacts[i].account_id == account_id]
        owners: dict[str, list[int]] = {}
        wanted = {e.lower() for e in body.emails}
        for contact in fake.contacts.values():
            if contact.account_id != account_id:
                continue
            for email in contact.emails:
                if email.lower() in wanted:
                    owners.setdefault(email.lower(), []).append(contact.id)
        return ContactLookup(contacts=found, email_owners=owners)

    @app.post(f"{INTERNAL_PREFIX}/accounts/{{account_id}}/bulk-apply")
    async def bulk_apply(account_id: int, body: BulkApplyRequest) -> BulkApplyResult:
        account(account_id)
        if fake.apply_delay_s:
            await asyncio.sleep(fake.apply_delay_s)
        return fake.apply(account_id, body)

    return app
