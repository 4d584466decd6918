"""The steps of an import that both `crm-bulk import FILE` and `crm-bulk imports …` take:
waiting for a state, showing the feedback, starting and following the run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.api import ServiceApi
from cli.context import AppContext
from cli.exit_codes import JobUnsuccessful
from cli.tables import counts_table, feedback_table, result_table

FINISHED_STATES = ("completed", "completed_with_errors", "failed")
POLL_S = 0.5


def wait_for_import(
    api: ServiceApi,
    import_id: str,
    done: Callable[[dict[str, Any]], bool],
    timeout_s: float,
    on_view: Callable[[dict[str, Any]], None] = lambda view: None,
) -> dict[str, Any]:
    """Polls the import (its state is the source of truth, Kafka or not) until `done`."""
    deadline = time.monotonic() + timeout_s
    while True:
        view: dict[str, Any] = api.get(f"/v1/imports/{import_id}")
        on_view(view)
        if done(view) or view["state"] == "failed":
            return view
        if time.monotonic() > deadline:
            raise JobUnsuccessful("wait_timeout", seconds=int(timeout_s), command=f"crm-bulk imports show {import_id}")
        time.sleep(POLL_S)


def fail_if_failed(view: dict[str, Any]) -> None:
    if view["state"] == "failed":
        error = view.get("error") or {}
        raise JobUnsuccessful("import_failed", code=error.get("code", "?"), message=error.get("message", ""))


def feedback_items(api: ServiceApi, import_id: str, severity: str | None, limit: int) -> tuple[list[Any], bool]:
    params: dict[str, Any] = {"limit": limit}
    if severity:
        params["severity"] = severity
    page = api.get(f"/v1/imports/{import_id}/feedback", params=params)
    return page["items"], page.get("next_cursor") is not None


def show_validation(context: AppContext, view: dict[str, Any], limit: int, console: Console) -> None:
    """The feedback, errors first, at most `limit` of each kind; then the counts."""
    api = context.api("importer")
    import_id = str(view["import_id"])
    counts = view.get("counts") or {}
    errors, _ = feedback_items(api, import_id, "error", limit) if counts.get("errors") else ([], False)
    warnings, _ = feedback_items(api, import_id, "warning", limit) if counts.get("warnings") else ([], False)
    if errors or warnings:
        console.print(feedback_table(errors + warnings, context.t))
        hidden = counts.get("errors", 0) + counts.get("warnings", 0) - len(errors) - len(warnings)
        if hidden > 0:
            context.notice("more_feedback", count=hidden, import_id=import_id)
    else:
        context.notice("no_feedback")
    console.print(counts_table(counts, context.t))


def start_and_follow(context: AppContext, import_id: str, timeout_s: float, console: Console) -> dict[str, Any]:
    """Sends "start" and shows a progress bar until the run ends; returns the final view."""
    api = context.api("importer")
    accepted = api.post(f"/v1/imports/{import_id}/start")
    if not accepted.get("accepted") and accepted["state"] not in FINISHED_STATES:
        raise JobUnsuccessful("start_not_accepted", import_id=import_id, state=accepted["state"])
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=context.err, transient=True, disable=not context.err.is_terminal) as progress:
        task = progress.add_task(context.t("applying"), total=None)

        def show(view: dict[str, Any]) -> None:
            counts = view.get("counts") or {}
            planned = (counts.get("to_create") or 0) + (counts.get("to_update") or 0)
            done = (view.get("progress") or {}).get("rows_done") or 0
            progress.update(task, total=max(planned, done) or None, completed=done)

        final = wait_for_import(api, import_id, lambda v: v["state"] in FINISHED_STATES, timeout_s, show)
    fail_if_failed(final)
    done_key = "import_done" if final["state"] == "completed" else "import_done_with_errors"
    context.err.print(context.t(done_key, import_id=import_id))
    console.print(result_table(final.get("result") or {}, context.t))
    return final
