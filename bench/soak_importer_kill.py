"""Soak: the importer SIGKILLed at random points of a run, restarted, again and again,
until the run is done; every row must be applied exactly once and the job must end
`completed`.

    .venv/bin/python -m bench.soak_importer_kill --trials 100 --rows 50000   # the issue's long mode
    .venv/bin/python -m bench.soak_importer_kill --trials 3 --rows 5000      # the suite's default

Runs on a private PostgreSQL cluster and a private Kafka broker (started here, removed
afterwards; `--kafka host:port` uses a running one instead) and the shared S3 of
deploy/local/infra.sh (a bucket of its own), so nothing shared is disturbed and no other
deployment's commands are replayed to this importer. Each trial: a fresh account of `--rows` contacts, a
validated import renaming every one of them, started; then 1..`--max-kills` SIGKILLs,
each once the run has reached a randomly chosen batch plus a random fraction of a batch's
time (so kills land before, inside and after the contacts service's commit of a batch);
the importer is restarted after each kill and the run is left to finish.

Checked after each trial, on the contacts database: one change-log row per sheet row
(`contact_changes` by import_id: rows 2..N+1 once each, one (contact, field) each), every
contact at version 2 with its new name, and the job `completed` with `updated = N`.

Prints one line per trial and a summary (trials, kills, recovery times, duration,
outcome); `--json PATH` writes the same figures for tests. Exit status 1 if any trial
broke exactly-once or did not complete.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.reliability.harness import (
    PrivatePostgres,
    RestartableKafka,
    Stack,
    batches_done,
    create_account,
    exactly_once,
    get_import,
    rename_sheet,
    seed_contacts,
    start_import,
    validated_import,
    wait_until,
)

# Short enough that a killed run is taken over quickly (the sweep runs every lease / 2).
LEASE_S = 3.0
# Importer runs that take more attempts than this are failed on purpose by the product
# (apply_import.MAX_ATTEMPTS = 5 claims): the default stays within it.
DEFAULT_MAX_KILLS = 3


@dataclass
class Trial:
    number: int
    rows: int
    batches: int
    kills: int = 0
    kills_missed: int = 0  # the run finished before the chosen point
    killed_at_batches: list[int] = field(default_factory=list)
    restart_s: list[float] = field(default_factory=list)  # kill → the new process ready
    recovery_s: list[float] = field(default_factory=list)  # kill → next batch recorded
    run_s: float = 0.0  # start → completed, kills and restarts included
    state: str = ""
    result: dict[str, int] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def run_trial(
    stack: Stack, number: int, rows: int, kills_range: tuple[int, int], rng: random.Random
) -> Trial:
    account = await create_account(stack)
    ids = await seed_contacts(stack, account, rows)
    import_id = await validated_import(stack, account, rename_sheet(ids), timeout_s=max(120, rows / 100))
    started = time.monotonic()
    await start_import(stack, account, import_id)
    done, total, _ = await wait_until(
        lambda: _running(stack, import_id), 60, "the run to begin"
    )
    trial = Trial(number, rows, total)
    kills = rng.randint(*kills_range)
    # Points in the first 90 % of the run, so that few kills come too late to land.
    window = range(1, max(2, int(total * 0.9)))
    targets = sorted(rng.sample(window, min(kills, len(window))))
    last_progress = (time.monotonic(), done)
    for target in targets:
        reached = await wait_until(lambda t=target: _reached(stack, import_id, t), 300, f"batch {target}")
        done, _, state = reached
        if state != "running":
            trial.kills_missed += 1
            continue
        # A random point inside the next batch: before, during or after the contacts
        # service commits it, and before or after the importer records it.
        now = time.monotonic()
        per_batch = (now - last_progress[0]) / max(1, done - last_progress[1])
        await asyncio.sleep(rng.uniform(0, min(per_batch, 2.0)))
        stack.importer.kill()
        killed = time.monotonic()
        done, _, state = await batches_done(stack, import_id)
        if state != "running":
            trial.kills_missed += 1
            stack.importer.start()
            continue
        trial.kills += 1
        trial.killed_at_batches.append(done)
        stack.importer.start()
        trial.restart_s.append(round(time.monotonic() - killed, 2))
        after, _, _ = await wait_until(lambda d=done: _past(stack, import_id, d), 120, "the run to move again")
        trial.recovery_s.append(round(time.monotonic() - killed, 2))
        last_progress = (time.monotonic(), after)

    async def finished() -> dict | None:
        view = await get_import(stack.importer.url, account, import_id)
        return view if view["state"] in ("completed", "completed_with_errors", "failed") else None

    view = await wait_until(finished, 600, f"import {import_id} to finish", every_s=0.2)
    trial.run_s = round(time.monotonic() - started, 2)
    trial.state = view["state"]
    trial.result = view.get("result")
    if view["state"] != "completed":
        trial.problems.append(f"ended {view['state']}: {view.get('error')}")
    expected = {"created": 0, "updated": rows, "unchanged": 0, "skipped": 0, "failed": 0}
    if trial.result != expected:
        trial.problems.append(f"result {trial.result}, expected {expected}")
    proof = await exactly_once(stack, account, import_id, ids)
    trial.problems.extend(proof.problems(rows))
    if proof.batches_applied != total:
        trial.problems.append(f"{proof.batches_applied} bulk-apply batches recorded, expected {total}")
    return trial


async def _running(stack: Stack, import_id: str) -> tuple[int, int, str] | None:
    done, total, state = await batches_done(stack, import_id)
    return (done, total, state) if state == "running" and total > 0 else None


async def _reached(stack: Stack, import_id: str, target: int) -> tuple[int, int, str] | None:
    done, total, state = await batches_done(stack, import_id)
    return (done, total, state) if done >= target or state != "running" else None


async def _past(stack: Stack, import_id: str, done_at_kill: int) -> tuple[int, int, str] | None:
    done, total, state = await batches_done(stack, import_id)
    return (done, total, state) if done > done_at_kill or state != "running" else None


def batch_size_for(rows: int) -> int:
    """About 100 batches a run, whatever its size (50k rows: the default 500 a batch)."""
    return max(10, min(5000, rows // 100))


async def soak(trials: int, rows: int, kills_range: tuple[int, int], seed: int, kafka: str | None) -> list[Trial]:
    rng = random.Random(seed)
    broker = None
    if kafka is None:
        broker = RestartableKafka(Path(tempfile.mkdtemp(prefix="crm-bulk-kafka-"))).start()
        kafka = broker.bootstrap
    postgres = PrivatePostgres().start()
    env = {"importer": {"IMPORTER_APPLY_BATCH_SIZE": str(batch_size_for(rows)), "IMPORTER_RUN_LEASE_S": str(LEASE_S)}}
    stack = Stack(postgres.port, kafka, extra_env=env, label="soak-kill")
    results: list[Trial] = []
    try:
        stack.start()
        for number in range(1, trials + 1):
            trial = await run_trial(stack, number, rows, kills_range, rng)
            results.append(trial)
            print(
                f"trial {number:3d}: {trial.state or '?':9s} rows {rows} batches {trial.batches} "
                f"kills {trial.kills} (at {trial.killed_at_batches}) missed {trial.kills_missed} "
                f"restart {trial.restart_s} s recovery {trial.recovery_s} s run {trial.run_s} s "
                f"{'OK' if trial.ok else trial.problems}",
                flush=True,
            )
    finally:
        stack.stop()
        postgres.destroy()
        if broker is not None:
            broker.stop()
            shutil.rmtree(broker.workdir, ignore_errors=True)
    return results


def summary(results: list[Trial], elapsed_s: float) -> dict[str, object]:
    recoveries = [r for t in results for r in t.recovery_s]
    restarts = [r for t in results for r in t.restart_s]
    return {
        "trials": len(results),
        "trials_ok": sum(t.ok for t in results),
        "rows_per_trial": results[0].rows if results else 0,
        "kills": sum(t.kills for t in results),
        "kills_missed": sum(t.kills_missed for t in results),
        "restart_s_median": round(statistics.median(restarts), 2) if restarts else None,
        "recovery_s_median": round(statistics.median(recoveries), 2) if recoveries else None,
        "recovery_s_max": max(recoveries) if recoveries else None,
        "run_s_median": round(statistics.median(t.run_s for t in results), 2) if results else None,
        "elapsed_s": round(elapsed_s, 1),
        "outcome": "ok" if results and all(t.ok for t in results) else "FAILED",
        "failures": [asdict(t) for t in results if not t.ok],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--min-kills", type=int, default=1, help="kills per trial: at least this")
    parser.add_argument("--max-kills", type=int, default=DEFAULT_MAX_KILLS, help="kills per trial: at most this")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed; default: from the clock)")
    parser.add_argument("--kafka", default=None, help="a running Kafka; default: a private one")
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    kills = (args.min_kills, max(args.min_kills, args.max_kills))
    print(f"soak_importer_kill: {args.trials} trials x {args.rows} rows, {kills[0]}..{kills[1]} kills, seed {seed}")
    started = time.monotonic()
    results = asyncio.run(soak(args.trials, args.rows, kills, seed, args.kafka))
    figures = {"seed": seed, "kills_per_trial": list(kills), **summary(results, time.monotonic() - started)}
    print(json.dumps({k: v for k, v in figures.items() if k != "failures"}))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if figures["outcome"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
