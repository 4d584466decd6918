"""Work started ahead (lookups, row loads, bulk applies) that a run no longer wants."""

from __future__ import annotations

import asyncio
from typing import Any


def drop(task: asyncio.Task[Any]) -> None:
    """Cancels `task` if it is still running; an error it ended with is not reported again
    (the run ends with the error that stopped it)."""
    task.cancel()
    task.add_done_callback(_retrieved)


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
