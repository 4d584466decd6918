"""The exit codes scripts rely on: 0 done, 1 validation errors, 2 usage, 3 unreachable."""

from __future__ import annotations

import pytest

from cli.exit_codes import ApiRefused, ExitCode, exit_code_for_import, exit_code_for_status


@pytest.mark.parametrize(
    ("status", "code"),
    [(200, ExitCode.DONE), (401, ExitCode.USAGE), (404, ExitCode.USAGE), (422, ExitCode.USAGE),
     (500, ExitCode.SERVICE_UNREACHABLE), (503, ExitCode.SERVICE_UNREACHABLE)],
)
def test_http_status_to_exit_code(status, code):
    assert exit_code_for_status(status) is code
    if status >= 400:
        assert ApiRefused("export", status, "x").exit_code is code


@pytest.mark.parametrize(
    ("state", "errors", "code"),
    [("completed", 0, ExitCode.DONE), ("validated", 0, ExitCode.DONE),
     ("completed", 2, ExitCode.VALIDATION_ERRORS), ("completed_with_errors", 0, ExitCode.VALIDATION_ERRORS),
     ("failed", 0, ExitCode.VALIDATION_ERRORS), ("validated", 1, ExitCode.VALIDATION_ERRORS)],
)
def test_an_import_is_done_only_when_every_row_is_applied(state, errors, code):
    assert exit_code_for_import(state, errors) is code
