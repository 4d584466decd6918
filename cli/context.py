"""What every command gets: the resolved settings, the three APIs, the two consoles
(tables and JSON on stdout, progress and notices on stderr) and the message catalogue."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from cli.api import ServiceApi
from cli.exit_codes import CliFailure, UsageProblem
from cli.messages import Messages
from cli.settings import CliSettings

PIPED_WIDTH = 160


@dataclass
class AppContext:
    settings: CliSettings
    config_path: Path | None = None
    out: Console = field(default_factory=lambda: _console(stderr=False))
    err: Console = field(default_factory=lambda: _console(stderr=True))

    @functools.cached_property
    def t(self) -> Messages:
        return Messages(self.settings.lang)

    def api(self, service: str) -> ServiceApi:
        if not self.settings.token:
            raise UsageProblem("token_missing")
        url = {
            "contacts": self.settings.contacts_url,
            "export": self.settings.export_url,
            "importer": self.settings.importer_url,
        }[service]
        return ServiceApi(service, url, self.settings.token, self.settings.lang)

    @property
    def interactive(self) -> bool:
        return sys.stdin.isatty() and sys.stdout.isatty()

    def print_json(self, value: Any) -> None:
        # Plain print: rich would wrap long lines and break the JSON for a script.
        print(json.dumps(value, ensure_ascii=False, indent=2, default=str))

    def notice(self, key: str, **params: Any) -> None:
        self.err.print(self.t(key, **params))

    def print_job_page(
        self,
        service: str,
        path: str,
        limit: int,
        cursor: str | None,
        as_json: bool,
        table: Callable[[Sequence[Mapping[str, Any]], Messages], Any],
    ) -> None:
        """One page of the Exports or Imports page (newest first), as a table or JSON."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = self.api(service).get(path, params=params)
        if as_json:
            self.print_json(page)
            return
        self.out.print(table(page["items"], self.t))
        if page.get("next_cursor"):
            self.notice("more_pages_cursor", cursor=page["next_cursor"])


_current: list[AppContext] = []


def set_app_context(context: AppContext) -> None:
    """Called once per run by the root callback, before any command."""
    _current[:] = [context]


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Piped into a file or a pager, tables keep their rows on one line rather than 80 columns.
    width = None if stream.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH
    return Console(stderr=stderr, highlight=False, width=width)


def app_context() -> AppContext:
    assert _current, "the root callback builds the context"
    return _current[0]


P = ParamSpec("P")
R = TypeVar("R")


def reports_failures(command: Callable[P, R]) -> Callable[P, R]:
    """Shows a CliFailure as one translated line on stderr and exits with its code,
    instead of a traceback."""

    @functools.wraps(command)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CliFailure as failure:
            context = app_context()
            context.err.print(f"[red]✗[/red] {context.t(failure.message_key, **failure.params)}")
            raise typer.Exit(int(failure.exit_code)) from None

    return guarded
