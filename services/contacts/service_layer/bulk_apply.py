"""The importer's bulk apply: one batch, one transaction, idempotent by its key."""

from __future__ import annotations

import hashlib

import asyncpg

from services.contacts.adapters import accounts_store, contact_writes
from services.contacts.domain.bulk_plan import plan_batch
from services.contacts.domain.custom_field_rules import number_indexed_fields
from shared.contacts_api import BulkApplyRequest, BulkApplyResult, RowAction, RowOutcome


class IdempotencyKeyReusedError(ValueError):
    """The key was used before by a different batch: applying it would be a guess."""


def request_fingerprint(request: BulkApplyRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


async def bulk_apply(pool: asyncpg.Pool, account_id: int, request: BulkApplyRequest) -> BulkApplyResult:
    fingerprint = request_fingerprint(request)
    async with pool.acquire() as conn, conn.transaction():
        rules, _ = await accounts_store.account_rules(conn, account_id)
        # Claiming the key first makes a concurrent twin wait on this row's lock until
        # we commit, and then replay our outcomes instead of applying again.
        claimed = await conn.fetchval(
            """
            INSERT INTO bulk_apply_batches (account_id, idempotency_key, request_sha256, import_id)
            VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true
            """,
            account_id,
            request.idempotency_key,
            fingerprint,
            request.import_id,
        )
        if not claimed:
            return await _replay(conn, account_id, request, fingerprint)
        update_ids = [r.contact_id for r in request.rows if r.action is RowAction.UPDATE and r.contact_id is not None]
        stored = await contact_writes.lock_contacts(conn, account_id, update_ids)
        plan = plan_batch(request, stored, rules)
        number_fields = number_indexed_fields(rules.custom_fields)
        versions = {
            contact_id: version
            for contact_id, (version, _) in (
                await contact_writes.update_contacts(conn, account_id, plan.updates, number_fields)
            ).items()
        }
        await contact_writes.insert_contacts(conn, account_id, plan.creates, number_fields)
        for write in plan.creates:
            write.outcome.contact_id = write.contact_id
        cause = contact_writes.Cause(request.requested_by, request.import_id)
        await contact_writes.log_changes(conn, account_id, [*plan.updates, *plan.creates], versions, cause)
        await conn.execute(
            "UPDATE bulk_apply_batches SET outcomes = $3 WHERE account_id = $1 AND idempotency_key = $2",
            account_id,
            request.idempotency_key,
            [o.model_dump(mode="json") for o in plan.outcomes],
        )
    return BulkApplyResult(idempotency_key=request.idempotency_key, replayed=False, outcomes=plan.outcomes)


async def _replay(
    conn: asyncpg.Connection, account_id: int, request: BulkApplyRequest, fingerprint: str
) -> BulkApplyResult:
    row = await conn.fetchrow(
        "SELECT request_sha256, outcomes FROM bulk_apply_batches WHERE account_id = $1 AND idempotency_key = $2",
        account_id,
        request.idempotency_key,
    )
    assert row is not None  # the conflicting insert committed, or we would have claimed it
    if row["request_sha256"] != fingerprint:
        raise IdempotencyKeyReusedError(f"idempotency key {request.idempotency_key!r} was used by a different batch")
    outcomes = [RowOutcome.model_validate(o) for o in row["outcomes"] or []]
    return BulkApplyResult(idempotency_key=request.idempotency_key, replayed=True, outcomes=outcomes)
