"""Exit codes a script can rely on, and the failures that lead to each."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    DONE = 0
    # The work was refused or did not all happen: validation errors in a sheet, rows
    # left out, a failed export or import.
    VALIDATION_ERRORS = 1
    # The command line or what it asked for is wrong: options, token, unknown id.
    USAGE = 2
    # A service (or the object store) could not be reached or failed on its side.
    SERVICE_UNREACHABLE = 3


class CliFailure(Exception):
    """A failure shown to the user as one catalogue message (cli.messages)."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message_key: str, **params: Any) -> None:
        super().__init__(message_key)
        self.message_key = message_key
        self.params = params


class UsageProblem(CliFailure):
    exit_code = ExitCode.USAGE


class ServiceUnreachable(CliFailure):
    exit_code = ExitCode.SERVICE_UNREACHABLE


class JobUnsuccessful(CliFailure):
    exit_code = ExitCode.VALIDATION_ERRORS


class ApiRefused(CliFailure):
    """The service answered with an error status; `detail` is its own explanation."""

    def __init__(self, service: str, status: int, detail: str) -> None:
        super().__init__("api_refused", service=service, status=status, detail=detail)
        self.status = status
        self.exit_code = exit_code_for_status(status)


def exit_code_for_status(status: int) -> ExitCode:
    """4xx: the request was wrong (usage); 5xx: the service failed (as if unreachable)."""
    if status >= 500:
        return ExitCode.SERVICE_UNREACHABLE
    if status >= 400:
        return ExitCode.USAGE
    return ExitCode.DONE


def exit_code_for_import(state: str, errors: int) -> ExitCode:
    """An import ends well only when every row was (or can be) applied."""
    if state == "failed" or state == "completed_with_errors" or errors > 0:
        return ExitCode.VALIDATION_ERRORS
    return ExitCode.DONE
