from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.export.domain.files import export_file_name, export_object_key

EXPORT_ID = uuid.UUID("9b2f6c1e-3f4a-4c55-9d0e-0123456789ab")
REQUESTED_AT = datetime(2026, 11, 30, 18, 30, 59, tzinfo=UTC)  # 15:30 in São Paulo


def test_file_names_say_what_and_when_in_the_account_time_zone() -> None:
    assert export_file_name("csv", REQUESTED_AT, "America/Sao_Paulo") == "contatos-2026-11-30-1530.csv"
    assert export_file_name("xlsx", REQUESTED_AT, "America/Sao_Paulo", "en") == "contacts-2026-11-30-1530.xlsx"
    assert export_file_name("csv", REQUESTED_AT, "Asia/Tokyo") == "contatos-2026-12-01-0330.csv"


def test_object_key_is_per_account_and_export() -> None:
    key = export_object_key(42, str(EXPORT_ID).upper(), "contatos-2026-11-30-1530.xlsx")
    assert key == f"exports/42/{EXPORT_ID}/contatos-2026-11-30-1530.xlsx"


@pytest.mark.parametrize(
    ("account_id", "export_id", "file_name"),
    [
        (0, EXPORT_ID, "contatos-2026-11-30-1530.csv"),
        (True, EXPORT_ID, "contatos-2026-11-30-1530.csv"),
        ("42", EXPORT_ID, "contatos-2026-11-30-1530.csv"),
        (42, "../../7/x", "contatos-2026-11-30-1530.csv"),
        (42, EXPORT_ID, "../contatos-2026-11-30-1530.csv"),
        (42, EXPORT_ID, "contatos-2026-11-30-1530.csv/../../x.csv"),
        (42, EXPORT_ID, "contatos-2026-11-30-1530.exe"),
        (42, EXPORT_ID, "relatorio-2026-11-30-1530.csv"),
    ],
)
def test_nothing_else_can_steer_the_object_key(account_id, export_id, file_name) -> None:
    with pytest.raises(ValueError):
        export_object_key(account_id, export_id, file_name)


def test_naive_request_time_is_refused() -> None:
    with pytest.raises(ValueError):
        export_file_name("csv", datetime(2026, 11, 30), "America/Sao_Paulo")
