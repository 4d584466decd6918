"""A run's attempts count takeovers that found no progress: a run killed many times but
moving forward is never given up; one that never moves is (apply_import.MAX_ATTEMPTS)."""

from __future__ import annotations

import uuid

from services.importer.adapters.run_store import RunStore
from services.importer.service_layer.apply_import import MAX_ATTEMPTS
from tests.integration.importer.conftest import Importer


async def _validated_import(importer: Importer) -> uuid.UUID:
    import_id = uuid.uuid4()
    async with importer.pool.acquire() as conn:
        await conn.execute(
            """
            INSERT INTO imports (import_id, account_id, requested_by, file_name, object_key, size_bytes,
                                 state, ready_to_start)
            VALUES ($1, 1, 'tests', 'x.csv', 'imports/1/x/upload', 1, 'validated', true)
            """,
            import_id,
        )
    return import_id


async def _owner_dies(importer: Importer, import_id: uuid.UUID, batches_recorded: int = 0) -> None:
    async with importer.pool.acquire() as conn:
        await conn.execute(
            """UPDATE imports SET lease_until = now() - interval '1 second',
                                  batches_done = batches_done + $2 WHERE import_id = $1""",
            import_id,
            batches_recorded,
        )


async def _claim(runs: RunStore, import_id: uuid.UUID) -> int:
    claim = await runs.claim(import_id, f"owner-{uuid.uuid4().hex[:6]}", lease_s=30, batch_size=50)
    assert claim is not None
    return claim.record.run_attempt


async def test_takeovers_after_progress_start_counting_again(importer: Importer) -> None:
    runs = RunStore(importer.pool)
    import_id = await _validated_import(importer)
    assert await _claim(runs, import_id) == 1
    for _ in range(MAX_ATTEMPTS * 2):  # killed again and again, a batch recorded each time
        await _owner_dies(importer, import_id, batches_recorded=1)
        assert await _claim(runs, import_id) == 1


async def test_takeovers_without_progress_add_up_past_the_limit(importer: Importer) -> None:
    runs = RunStore(importer.pool)
    import_id = await _validated_import(importer)
    attempts = [await _claim(runs, import_id)]
    for _ in range(MAX_ATTEMPTS):
        await _owner_dies(importer, import_id)
        attempts.append(await _claim(runs, import_id))
    assert attempts == list(range(1, MAX_ATTEMPTS + 2))
    assert attempts[-1] > MAX_ATTEMPTS
