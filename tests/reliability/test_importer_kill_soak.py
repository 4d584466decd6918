"""bench/soak_importer_kill.py run from the suite: the importer SIGKILLed at random points
of a run and restarted until the run is done; every row applied exactly once (the
contacts' change log and versions), the job `completed`.

Default: 3 trials of 5,000 rows, 1..3 kills each at instants drawn in the run's expected
running time (`--kill-by time`: the kills land in resumed runs too, at any point of a
batch). CRM_BULK_LONG=1: the issue's 100 trials of 50,000 rows. The soak's summary says
how many kills landed mid-run, how many of them on resumed runs, and how many came after
the run had ended (see docs/reliability.md, section 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.harness import RestartableKafka
from tests.support.stack import ROOT

LONG = os.environ.get("CRM_BULK_LONG") == "1"
TRIALS, ROWS = (100, 50_000) if LONG else (3, 5_000)


def run_soak(kafka: RestartableKafka, tmp_path: Path, *args: str, timeout_s: float) -> tuple[int, dict, str]:
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak_importer_kill", "--kafka", kafka.bootstrap, "--json", str(out), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, check=False,
    )  # fmt: skip
    print(done.stdout[-4000:], done.stderr[-2000:])
    figures = json.loads(out.read_text()) if out.exists() else {}
    return done.returncode, figures, done.stdout


@pytest.mark.timeout(6 * 3600 if LONG else 420)
def test_a_repeatedly_killed_importer_applies_every_row_exactly_once(
    private_kafka: RestartableKafka, tmp_path: Path
) -> None:
    code, figures, stdout = run_soak(
        private_kafka, tmp_path, "--trials", str(TRIALS), "--rows", str(ROWS), timeout_s=6 * 3600 if LONG else 400
    )
    assert code == 0 and figures["outcome"] == "ok", stdout
    assert figures["trials_ok"] == TRIALS
    assert figures["kills"] >= TRIALS, "a trial without a kill proves nothing"
