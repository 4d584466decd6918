"""Pure parts of the importer's service layer: no servers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from services.importer.adapters.import_repository import ImportRecord
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.validation_setup import ValidationOptions
from services.importer.service_layer.apply_import import _tally
from services.importer.service_layer.confirm_import import (
    ConfirmChoice,
    ConfirmRejected,
    options_as_json,
    options_from_json,
    resolve_columns,
)
from services.importer.service_layer.feedback_report import _as_written
from services.importer.service_layer.messages_text import locale_of
from services.importer.service_layer.prepare_import import display_file_name, upload_key
from shared.contacts_api import AccountContext, BulkApplyResult, RowOutcome, RowOutcomeKind
from shared.ooxml import decode_xstring


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "pt-BR"),
        ("en-US,en;q=0.9", "en"),
        ("pt-BR,pt;q=0.9,en;q=0.8", "pt-BR"),
        ("fr;q=0.9, en;q=0.8", "en"),
        ("pt;q=0.2, en;q=0.8", "en"),
        ("de", "pt-BR"),
    ],
)
def test_locale_of_accept_language(header: str | None, locale: str) -> None:
    assert locale_of(header) == locale


def test_display_file_name_keeps_only_the_name() -> None:
    assert display_file_name("C:\\Users\\ana\\Desktop\\contatos.csv") == "contatos.csv"
    assert display_file_name("../../etc/passwd") == "passwd"
    assert display_file_name("a\x00b\r\n  c.xlsx") == "ab c.xlsx"
    assert display_file_name("") == "upload"
    assert len(display_file_name("x" * 1000)) == 200


def test_upload_key_never_uses_the_file_name() -> None:
    import_id = uuid.uuid4()
    assert upload_key(7, import_id) == f"imports/7/{import_id}/upload"


def test_tally_counts_every_sent_row_once() -> None:
    result = BulkApplyResult(
        idempotency_key="k",
        replayed=False,
        outcomes=[
            RowOutcome(row_number=2, outcome=RowOutcomeKind.CREATED, contact_id=5),
            RowOutcome(row_number=3, outcome=RowOutcomeKind.CONFLICT, contact_id=6, reason="changed"),
            RowOutcome(row_number=3, outcome=RowOutcomeKind.UPDATED, contact_id=6),  # repeated: ignored
            RowOutcome(row_number=99, outcome=RowOutcomeKind.UPDATED, contact_id=7),  # not sent: ignored
        ],
    )
    outcomes, tally = _tally(result, skip_conflicts=True, sent_rows={2, 3, 4})
    assert (tally.created, tally.skipped, tally.failed, tally.rows) == (1, 1, 1, 3)
    assert [o[0] for o in outcomes] == [2, 3, 4]
    _, strict = _tally(result, skip_conflicts=False, sent_rows={2, 3, 4})
    assert strict.failed == 2


def test_options_round_trip_through_json() -> None:
    options = ValidationOptions(create_unknown_ids=False, skip_conflicts=True)
    assert options_from_json(options_as_json(options)) == options
    assert options_from_json({"unknown": 1}) == ValidationOptions()


def _record(columns: list[tuple[str, str | None]], file_format: str = "xlsx") -> ImportRecord:
    now = datetime.now(UTC)
    fields = {name: None for name in ImportRecord.__dataclass_fields__}
    fields.update(
        import_id=uuid.uuid4(),
        account_id=1,
        header=[h for h, _ in columns],
        columns=[{"index": i, "header": h, "suggested_field": k} for i, (h, k) in enumerate(columns)],
        file_format=file_format,
        created_at=now,
        updated_at=now,
    )
    return ImportRecord(**fields)  # type: ignore[arg-type]


ACCOUNT = AccountContext(account_id=1, name="x", owners=[], lifecycle_stages=[], custom_fields=[])


def test_resolve_columns_from_field_keys_adds_the_key_columns() -> None:
    record = _record([("ID", "id"), ("Nome", "name"), ("Atualizado em", "updated_at"), ("X", None)])
    columns = resolve_columns(record, ConfirmChoice(fields=["name"]), AccountFields.from_account(ACCOUNT), "pt-BR")
    assert columns == {0: "id", 1: "name", 2: "updated_at"}


def test_resolve_columns_refuses_what_it_cannot_map() -> None:
    record = _record([("Nome", "name"), ("X", None)])
    fields = AccountFields.from_account(ACCOUNT)
    with pytest.raises(ConfirmRejected) as refused:
        resolve_columns(record, ConfirmChoice(fields={0: "name", 1: "name", 5: "company"}), fields, "en")
    codes = {p.code for p in refused.value.problems}
    assert codes == {"field_mapped_twice", "column_out_of_range"}


@pytest.mark.parametrize(
    "text",
    ["Ana\x00B", "\x01\x1f fim", "_x0000_ literal", "_x005F_x0041_", "a_xb_", "plain", "=\x00formula"],
)
def test_the_report_writes_cells_openpyxl_accepts_and_readers_decode_back(text: str) -> None:
    written = _as_written(text)
    assert not ILLEGAL_CHARACTERS_RE.search(written)
    assert decode_xstring(written) == text
