"""Wall time per phase of a run, for the log line that tells an operator where a slow
validation or apply spends its time. Phases that overlap (work in tasks of their own)
each count their own wall time, so their sum may exceed the total."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class PhaseClock:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def summary(self) -> str:
        total = time.perf_counter() - self.started
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
        return f"{total:.1f} s in all: {phases}"
