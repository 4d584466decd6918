"""Soak: the importer SIGKILLed at random points of a run, restarted, again and again,
until the run is done; every row must be applied exactly once and the job must end
`completed`.

    .venv/bin/python -m bench.soak_importer_kill --trials 100 --rows 50000   # the issue's long mode
    .venv/bin/python -m bench.soak_importer_kill --trials 3 --rows 5000      # the suite's default

Runs on a private PostgreSQL cluster and a private Kafka broker (started here, removed
afterwards; `--kafka host:port` uses a running one instead) and the shared S3 of
deploy/local/infra.sh (a bucket of its own), so nothing shared is disturbed and no other
deployment's commands are replayed to this importer. Each trial: a fresh account of `--rows` contacts, a
validated import renaming every one of them, started; then 1..`--max-kills` SIGKILLs and
the importer restarted after each, the run left to finish. Where the kills fall
(`--kill-by`):

- `time` (default): at instants drawn uniformly in the first 90 % of the run's expected
  run time, counted from the run's start in *running* time (the time the run had a live
  owner: from its start to the first kill, then from each takeover, seen as the next
  batch recorded, to the next kill; not the restarts). The test sleeps until the instant
  and kills, whatever batch the run is at, so kills land in resumed runs too, and
  anywhere in a batch: before, inside or after the contacts service's commit, before or
  after the importer records it. The expected run time is the median running time of the
  earlier trials; the first trial extrapolates it from the importer's own timestamps over
  its first 5 % of batches.
- `batch` (the earlier points): once the run has reached a randomly chosen batch in its
  first 90 % (polled), plus a random fraction of a batch's time. A resumed run on an idle
  machine often passes its next point, or ends, between two polls.

A kill *lands mid-run* when, right after it, the run is still `running` with batches to
go; a kill whose instant comes after the run ended is not made (`kills_missed`).

Checked after each trial, on the contacts database: one change-log row per sheet row
(`contact_changes` by import_id: rows 2..N+1 once each, one (contact, field) each), every
contact at version 2 with its new name, and the job `completed` with `updated = N`.

Prints one line per trial and a summary (trials, kills landed mid-run, of them on resumed
runs, kills missed, recovery times, duration, outcome); `--json PATH` writes the same
figures for tests. Exit status 1 if any trial broke exactly-once or did not complete.
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

import asyncpg

from tests.reliability.harness import (
    Account,
    PrivatePostgres,
    RestartableKafka,
    Stack,
    create_account,
    exactly_once,
    get_import,
    readyz_status,
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
KILL_BY = ("time", "batch")
# Kill points fall in this first fraction of the run (its expected running time, or its
# batches), so that few come after the run has ended.
KILL_WINDOW = 0.9
# The first trial (--kill-by time) extrapolates its expected running time once it has
# recorded this fraction of its batches.
FIRST_ESTIMATE_AT = 0.05
# How often the run's row is read while the soak waits for a kill instant or an event.
POLL_S = 0.01


@dataclass
class Trial:
    number: int
    rows: int
    batches: int
    kill_by: str = "time"
    expected_run_s: float | None = None  # --kill-by time: the running time the points are drawn in
    kill_points: list[float] = field(default_factory=list)  # s of running time, or batch numbers
    kills: int = 0  # landed mid-run: the run was `running` with batches to go right after
    kills_on_resumed_runs: int = 0  # of those, after an earlier kill of the trial
    kills_missed: int = 0  # the run had finished at the chosen point
    killed_at_batches: list[int] = field(default_factory=list)
    killed_at_s: list[float] = field(default_factory=list)  # running time at each kill that landed
    restart_s: list[float] = field(default_factory=list)  # kill → the new process ready (/readyz)
    killed_before_ready: int = 0  # processes killed after they took the run over, before ready
    recovery_s: list[float] = field(default_factory=list)  # kill → next batch recorded (the takeover)
    running_s: float = 0.0  # the run with a live owner: start → end, the outages left out
    run_s: float = 0.0  # start → completed, kills and restarts included
    state: str = ""
    result: dict[str, int] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class RunningClock:
    """Time the run has had a live owner: runs from the run's start, stops at each kill,
    runs again once the new owner has recorded a batch (the takeover)."""

    def __init__(self) -> None:
        self.before = 0.0
        self.since: float | None = time.monotonic()

    def elapsed(self) -> float:
        return self.before + (time.monotonic() - self.since if self.since is not None else 0.0)

    def stop(self) -> None:
        self.before, self.since = self.elapsed(), None

    def resume(self) -> None:
        self.since = time.monotonic()


async def run_trial(
    stack: Stack,
    number: int,
    rows: int,
    kills_range: tuple[int, int],
    rng: random.Random,
    kill_by: str = "time",
    expected_run_s: float | None = None,
) -> Trial:
    account = await create_account(stack)
    ids = await seed_contacts(stack, account, rows)
    import_id = await validated_import(stack, account, rename_sheet(ids), timeout_s=max(120, rows / 100))
    watch = await RunWatch.open(stack, import_id)
    try:
        return await _kill_and_check(stack, watch, number, account, ids, kills_range, rng, kill_by, expected_run_s)
    finally:
        await watch.close()


async def _kill_and_check(
    stack: Stack,
    watch: RunWatch,
    number: int,
    account: Account,
    ids: list[int],
    kills_range: tuple[int, int],
    rng: random.Random,
    kill_by: str,
    expected_run_s: float | None,
) -> Trial:
    rows, import_id = len(ids), watch.import_id
    started = time.monotonic()
    await start_import(stack, account, import_id)
    done, total, _ = await wait_until(watch.running, 60, "the run to begin", every_s=POLL_S)
    clock = RunningClock()
    trial = Trial(number, rows, total, kill_by)
    kills = rng.randint(*kills_range)
    if kill_by == "time":
        if expected_run_s is None:
            expected_run_s = await watch.extrapolated_run_s()
        trial.expected_run_s = round(expected_run_s, 3)
        points: list[float] = sorted(rng.uniform(0, KILL_WINDOW * expected_run_s) for _ in range(kills))
        trial.kill_points = [round(p, 3) for p in points]
    else:
        window = range(1, max(2, int(total * KILL_WINDOW)))
        points = sorted(rng.sample(window, min(kills, len(window))))
        trial.kill_points = list(points)
    last_progress = (time.monotonic(), done)
    readiness: list[asyncio.Task[float]] = []  # kill → the new process ready, one per kill
    for point in points:
        if kill_by == "time":
            # Sleeps until the instant (the run's state read meanwhile: a run that ends
            # first stops the clock there, and is not killed).
            state = await _until(watch, clock, point)
        else:
            reached = await wait_until(lambda t=point: watch.reached(t), 300, f"batch {point}")
            done, _, state = reached
            if state == "running":
                # A random point inside the next batch: before, during or after the
                # contacts service commits it, and before or after the importer records it.
                now = time.monotonic()
                per_batch = (now - last_progress[0]) / max(1, done - last_progress[1])
                await asyncio.sleep(rng.uniform(0, min(per_batch, 2.0)))
        if state != "running":
            trial.kills_missed += 1
            continue
        stack.importer.kill()
        killed = time.monotonic()
        clock.stop()
        if readiness and not readiness[-1].done():
            readiness[-1].cancel()  # killed again before it was ready
        done, _, state = await watch.progress()
        # Started again without waiting for it to be ready: the new process takes the run
        # over (the lease sweep) seconds before it is ready (its Kafka consumers join).
        stack.importer.start(wait_ready=False)
        readiness.append(asyncio.create_task(_ready(stack.importer.url, killed)))
        if state != "running" or done >= total:
            trial.kills_missed += 1
            clock.resume()
            continue
        if trial.kills:  # the run had been taken over since the trial's first kill
            trial.kills_on_resumed_runs += 1
        trial.kills += 1
        trial.killed_at_batches.append(done)
        trial.killed_at_s.append(round(clock.elapsed(), 3))
        after, _, _ = await wait_until(lambda d=done: watch.past(d), 120, "the run to move again", every_s=POLL_S)
        clock.resume()
        trial.recovery_s.append(round(time.monotonic() - killed, 2))
        last_progress = (time.monotonic(), after)

    await wait_until(watch.over, 600, f"import {import_id} to finish", every_s=POLL_S)
    clock.stop()
    trial.running_s = round(clock.elapsed(), 3)
    if readiness:
        await asyncio.wait_for(asyncio.shield(readiness[-1]), 180)  # the next trial needs it
    trial.restart_s = [t.result() for t in readiness if not t.cancelled()]
    trial.killed_before_ready = sum(t.cancelled() for t in readiness)
    view = await get_import(stack.importer.url, account, import_id)
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


async def _ready(url: str, since: float) -> float:
    """Seconds from `since` until the service at `url` answers /readyz with 200."""

    async def ready() -> bool:
        return await readyz_status(url) == 200

    await wait_until(ready, 180, f"{url} ready", every_s=0.1)
    return round(time.monotonic() - since, 2)


async def _until(watch: RunWatch, clock: RunningClock, point: float) -> str:
    """Waits until the run's running time reaches `point` s; the run's state then (the
    clock stopped if the run ended before)."""
    while True:
        _, _, state = await watch.progress()
        if state != "running":
            clock.stop()
            return state
        left = point - clock.elapsed()
        if left <= 0:
            return state
        await asyncio.sleep(min(left, POLL_S))


class RunWatch:
    """The run's row in the importer's database, read on one connection (the soak polls
    it every 10-20 ms around kills; a connection per read would load the machine)."""

    def __init__(self, conn: asyncpg.Connection, import_id: str) -> None:
        self.conn = conn
        self.import_id = import_id

    @classmethod
    async def open(cls, stack: Stack, import_id: str) -> RunWatch:
        return cls(await asyncpg.connect(stack.dsn("importer")), import_id)

    async def close(self) -> None:
        await self.conn.close()

    async def read(self) -> asyncpg.Record:
        row = await self.conn.fetchrow(
            """
            SELECT coalesce(batches_done, 0) AS done, coalesce(batches_total, 0) AS total, state,
                   extract(epoch FROM coalesce(finished_at, updated_at) - started_at) AS took
            FROM imports WHERE import_id = $1::uuid
            """,
            self.import_id,
        )
        assert row is not None
        return row

    async def progress(self) -> tuple[int, int, str]:
        row = await self.read()
        return int(row["done"]), int(row["total"]), str(row["state"])

    async def running(self) -> tuple[int, int, str] | None:
        done, total, state = await self.progress()
        return (done, total, state) if state == "running" and total > 0 else None

    async def reached(self, target: int) -> tuple[int, int, str] | None:
        done, total, state = await self.progress()
        return (done, total, state) if done >= target or state != "running" else None

    async def past(self, done_at_kill: int) -> tuple[int, int, str] | None:
        done, total, state = await self.progress()
        return (done, total, state) if done > done_at_kill or state != "running" else None

    async def over(self) -> str | None:
        _, _, state = await self.progress()
        return state if state in ("completed", "completed_with_errors", "failed") else None

    async def extrapolated_run_s(self) -> float:
        """The run's time start → end, extrapolated from the importer's timestamps once it
        has recorded FIRST_ESTIMATE_AT of its batches: the time to its latest batch plus
        the batches left at the rate since its first batch (the run's start-up left out
        of the rate); its time, if it has ended."""
        first: tuple[int, float] | None = None

        async def measured() -> float | None:
            nonlocal first
            row = await self.read()
            if row["state"] != "running":
                return max(float(row["took"] or 0), 0.001)
            done, total, took = int(row["done"]), int(row["total"]), float(row["took"] or 0)
            if done == 0:
                return None
            if first is None:
                first = (done, took)
            if done < max(first[0] + 3, total * FIRST_ESTIMATE_AT):
                return None
            per_batch = (took - first[1]) / (done - first[0])
            return max(took + (total - done) * per_batch, 0.001)

        return float(await wait_until(measured, 120, "the run's first batches", every_s=POLL_S))


def batch_size_for(rows: int) -> int:
    """About 100 batches a run, whatever its size (50k rows: the default 500 a batch)."""
    return max(10, min(5000, rows // 100))


async def soak(
    trials: int, rows: int, kills_range: tuple[int, int], seed: int, kafka: str | None, kill_by: str = "time"
) -> list[Trial]:
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
            # Kill points by time: in the running time of the earlier trials, once known.
            earlier = [t.running_s for t in results if t.running_s > 0]
            expected_s = statistics.median(earlier) if earlier else None
            trial = await run_trial(stack, number, rows, kills_range, rng, kill_by, expected_s)
            results.append(trial)
            points = (
                f"points {trial.kill_points} s of {trial.expected_run_s} s"
                if kill_by == "time"
                else f"points at batches {trial.kill_points}"
            )
            print(
                f"trial {number:3d}: {trial.state or '?':9s} rows {rows} batches {trial.batches} {points}: "
                f"kills mid-run {trial.kills} (at batches {trial.killed_at_batches}, at {trial.killed_at_s} s; "
                f"{trial.kills_on_resumed_runs} on resumed runs) missed {trial.kills_missed} "
                f"running {trial.running_s} s restart {trial.restart_s} s "
                f"(killed before ready {trial.killed_before_ready}) recovery {trial.recovery_s} s "
                f"run {trial.run_s} s "
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
        "kill_by": results[0].kill_by if results else None,
        "kill_points": sum(len(t.kill_points) for t in results),
        "kills": sum(t.kills for t in results),  # landed mid-run
        "kills_on_resumed_runs": sum(t.kills_on_resumed_runs for t in results),
        "kills_missed": sum(t.kills_missed for t in results),
        "killed_before_ready": sum(t.killed_before_ready for t in results),
        "restart_s_median": round(statistics.median(restarts), 2) if restarts else None,
        "recovery_s_median": round(statistics.median(recoveries), 2) if recoveries else None,
        "recovery_s_max": max(recoveries) if recoveries else None,
        "running_s_median": round(statistics.median(t.running_s for t in results), 3) if results else None,
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
    parser.add_argument(
        "--kill-by", choices=KILL_BY, default="time", help="kill points by running time (default) or by batch"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed; default: from the clock)")
    parser.add_argument("--kafka", default=None, help="a running Kafka; default: a private one")
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    kills = (args.min_kills, max(args.min_kills, args.max_kills))
    print(
        f"soak_importer_kill: {args.trials} trials x {args.rows} rows, {kills[0]}..{kills[1]} kills "
        f"by {args.kill_by}, seed {seed}"
    )
    started = time.monotonic()
    results = asyncio.run(soak(args.trials, args.rows, kills, seed, args.kafka, args.kill_by))
    figures = {"seed": seed, "kills_per_trial": list(kills), **summary(results, time.monotonic() - started)}
    print(json.dumps({k: v for k, v in figures.items() if k != "failures"}))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if figures["outcome"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
