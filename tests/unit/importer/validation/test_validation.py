from datetime import UTC, datetime

import pytest

from services.importer.domain.feedback import FeedbackItem
from services.importer.domain.row_judgement import RowOutcome
from services.importer.domain.validation import BatchVerdict, SheetValidator
from services.importer.domain.validation_setup import ValidationOptions
from shared.contacts_api import ContactLookup, RowAction

from .builders import ACCOUNT_ID, account, contact, export_headers, export_rows, row, setup_for, validate

CTX = account()
KEYS = ["id", "name", "emails", "lifecycle_stage", "owner", "legal_entity", "updated_at"]
HEADERS = export_headers(CTX, KEYS)  # A=ID B=Nome C=E-mail D=Sessão E=Responsável F=Jurídico G=Atualizado em
CURRENT = contact(1001)
EXPORTED = export_rows(CTX, KEYS, [CURRENT])[0].cells  # updated_at "05/03/2024 12:30:45"


def sheet_row(row_number: int, **changes: object) -> object:
    cells = dict(zip(KEYS, EXPORTED, strict=True))
    cells.update(changes)
    return row(row_number, *(cells[k] for k in KEYS))


def run(
    *rows: object,
    records: tuple = (CURRENT,),
    options: ValidationOptions | None = None,
    keys: list[str] = KEYS,
    batch_size: int = 1000,
):
    setup = setup_for(CTX, export_headers(CTX, keys), options=options)
    return validate(setup, list(rows), records, batch_size=batch_size)  # type: ignore[arg-type]


def where(item: FeedbackItem) -> tuple:
    return (item.severity, item.code, item.row_number, item.column, item.field_key)


def only_row(verdicts: list[BatchVerdict]):
    (verdict,) = verdicts
    (judged,) = verdict.rows
    return judged


def test_an_edited_field_plans_an_update_of_that_field_only() -> None:
    verdicts, summary = run(sheet_row(2, name="Maria O. Santos", lifecycle_stage="Cliente"))
    judged = only_row(verdicts)
    assert judged.feedback == []
    assert judged.outcome is RowOutcome.UPDATE
    planned = judged.planned
    assert (planned.row_number, planned.action, planned.contact_id) == (2, RowAction.UPDATE, 1001)
    assert planned.values == {"name": "Maria O. Santos", "lifecycle_stage": "customer"}
    # the sheet's Atualizado em, read in the account's zone: checked again at apply time
    assert planned.expected_updated_at == datetime(2024, 3, 5, 15, 30, 45, tzinfo=UTC)
    assert summary.counts.to_update == 1
    assert summary.counts.field_changes == {"name": 1, "lifecycle_stage": 1}


def test_blank_id_creates_with_a_warning() -> None:
    verdicts, summary = run(sheet_row(2, id="", emails="nova@x.com", updated_at=""))
    judged = only_row(verdicts)
    (item,) = judged.feedback
    assert where(item) == ("warning", "new_contact_will_be_created", 2, "A", "id")
    assert item.message() == "Linha 2, coluna A (ID): o ID está vazio: um contato novo será criado."
    assert judged.planned.action is RowAction.CREATE
    assert judged.planned.contact_id is None
    assert judged.planned.values == {
        "name": "Maria Oliveira",
        "emails": ["nova@x.com"],
        "lifecycle_stage": "lead",
        "owner": 11,
        "legal_entity": False,
    }
    assert summary.counts.to_create == 1


def test_unknown_id_and_another_accounts_id_create_with_a_warning() -> None:
    foreign = contact(2002, account_id=99)
    verdicts, _ = run(
        sheet_row(2, id="999", emails=""),
        sheet_row(3, id="2002", emails=""),
        records=(CURRENT, foreign),
    )
    items = verdicts[0].feedback
    assert [where(i) for i in items] == [
        ("warning", "new_contact_will_be_created", 2, "A", "id"),
        ("warning", "new_contact_will_be_created", 3, "A", "id"),
    ]
    assert items[1].params == {"variant": "unknown", "id": 2002}
    assert (
        items[1]
        .message("en")
        .startswith("Row 3, column A (ID): the ID 2002 does not exist in this account: a new contact")
    )
    assert [p.action for p in verdicts[0].planned] == [RowAction.CREATE, RowAction.CREATE]


def test_blank_or_unknown_id_is_an_error_when_creating_is_off() -> None:
    options = ValidationOptions(create_unknown_ids=False)
    verdicts, summary = run(sheet_row(2, id="", emails=""), sheet_row(3, id="999", emails=""), options=options)
    assert [where(i) for i in verdicts[0].feedback] == [
        ("error", "id_blank", 2, "A", "id"),
        ("error", "id_not_found", 3, "A", "id"),
    ]
    assert verdicts[0].planned == []
    assert (summary.counts.rows_with_errors, summary.ready_to_start) == (2, False)


def test_the_same_id_twice_is_an_error_on_both_rows_even_across_batches() -> None:
    other = contact(1002, name="Outro")
    verdicts, summary = run(
        sheet_row(2, name="Novo nome"),
        sheet_row(3, id="1002", name="Outro"),
        sheet_row(4, name="Outro nome"),
        records=(CURRENT, other),
        batch_size=2,
    )
    assert [p.row_number for v in verdicts for p in v.planned] == [2, 4]  # planned per batch...
    assert summary.revoked_rows == [2, 4]  # ...and withdrawn once the repeat is known
    assert [where(i) for i in summary.feedback] == [
        ("error", "duplicate_id", 2, "A", "id"),
        ("error", "duplicate_id", 4, "A", "id"),
    ]
    assert summary.feedback[0].params == {"id": 1001, "other_rows": [4]}
    assert summary.feedback[0].message() == (
        "Linha 2, coluna A (ID): o ID 1001 aparece em mais de uma linha (também na linha 4). "
        "Cada contato deve estar em uma única linha: mantenha uma e apague as outras."
    )
    counts = summary.counts
    assert (counts.rows, counts.rows_with_errors, counts.to_update, counts.unchanged) == (
        3,
        2,
        0,
        1,
    )
    assert counts.field_changes == {"name": 0}
    assert not summary.ready_to_start


def test_a_mangled_id_is_an_error_with_a_hint() -> None:
    verdicts, _ = run(sheet_row(2, id="1,23457E+17"))
    judged = only_row(verdicts)
    (item,) = judged.feedback
    assert where(item) == ("error", "id_mangled", 2, "A", "id")
    assert item.value == "1,23457E+17"
    assert "Formate a coluna ID como Texto" in item.message()
    assert judged.outcome is RowOutcome.ERROR and judged.planned is None


def test_an_xlsx_float_id_that_is_an_exact_integer_is_fine() -> None:
    verdicts, _ = run(sheet_row(2, id=1001.0))
    assert only_row(verdicts).outcome is RowOutcome.UNCHANGED


def test_every_bad_cell_of_a_row_is_reported() -> None:
    verdicts, summary = run(sheet_row(2, emails="maria@", legal_entity="talvez", owner="Pedro"))
    items = only_row(verdicts).feedback
    assert [where(i) for i in items] == [
        ("error", "invalid_email", 2, "C", "emails"),
        ("error", "unknown_owner", 2, "E", "owner"),
        ("error", "invalid_boolean", 2, "F", "legal_entity"),
    ]
    assert items[1].message() == (
        'Linha 2, coluna E (Responsável): o responsável "Pedro" não é um usuário desta conta. '
        "Use o nome ou o e-mail de um usuário: Ana Souza, João Silva, João Silva, Márcia Lima."
    )
    assert (summary.counts.errors, summary.counts.rows_with_errors) == (3, 1)


def test_an_ambiguous_owner_name_is_an_error_unless_it_is_the_current_owner() -> None:
    current_joao = contact(1002, owner_id=13)
    verdicts, _ = run(
        sheet_row(2, owner="João Silva"),
        sheet_row(3, id="1002", owner="João Silva"),
        records=(CURRENT, current_joao),
    )
    (item,) = verdicts[0].feedback
    assert where(item) == ("error", "ambiguous_owner", 2, "E", "owner")
    assert "candidate_ids" not in item.params
    assert verdicts[0].rows[1].outcome is RowOutcome.UNCHANGED


def test_an_empty_recommended_cell_clears_the_field_with_a_warning() -> None:
    verdicts, _ = run(sheet_row(2, owner=""))
    judged = only_row(verdicts)
    (item,) = judged.feedback
    assert where(item) == ("warning", "recommended_field_empty", 2, "E", "owner")
    assert item.message() == (
        "Linha 2, coluna E (Responsável): o campo Responsável está vazio e "
        "o valor atual será apagado. Recomendamos não deixá-lo vazio."
    )
    assert judged.planned.values == {"owner": None}


def test_with_ignore_empty_an_empty_cell_keeps_the_value() -> None:
    verdicts, _ = run(sheet_row(2, owner="", emails=""), options=ValidationOptions(ignore_empty_cells=True))
    judged = only_row(verdicts)
    assert [i.params["variant"] for i in judged.feedback] == ["kept"]
    assert judged.outcome is RowOutcome.UNCHANGED


def test_an_empty_list_cell_clears_the_list() -> None:
    verdicts, _ = run(sheet_row(2, emails=""))
    assert only_row(verdicts).planned.values == {"emails": []}


def test_recommended_warnings_can_be_turned_off() -> None:
    verdicts, summary = run(
        sheet_row(2, owner=""),
        keys=KEYS[:5],
        options=ValidationOptions(warn_recommended_empty=False),
    )
    assert verdicts[0].feedback == [] and summary.feedback == []


def test_a_missing_recommended_column_is_one_warning_for_the_file() -> None:
    keys = ["id", "name", "emails"]
    rows = [row(n, *export_rows(CTX, keys, [CURRENT])[0].cells) for n in (2, 3, 4)]
    rows = [row(2, "1001", "Maria Oliveira", "maria@cliente.com.br")]
    _, summary = run(*rows, keys=keys)
    assert [(i.code, i.row_number, i.field_key) for i in summary.feedback] == [
        ("recommended_column_missing", None, "lifecycle_stage"),
        ("recommended_column_missing", None, "owner"),
        ("recommended_column_missing", None, "legal_entity"),
    ]
    assert summary.feedback[0].message() == (
        "a planilha não tem (ou não importa) a coluna Sessão (Ciclo de vida), recomendada numa atualização."
    )


def test_required_name_empty() -> None:
    verdicts, _ = run(sheet_row(2, name=""), sheet_row(3, id="", name="  ", emails="", updated_at=""))
    assert [(where(i), i.params.get("variant")) for i in verdicts[0].feedback] == [
        (("error", "required_field_empty", 2, "B", "name"), "update"),
        (("warning", "new_contact_will_be_created", 3, "A", "id"), "blank"),
        (("error", "required_field_empty", 3, "B", "name"), "create"),
    ]
    assert verdicts[0].planned == []


def test_a_create_without_the_name_column_is_an_error() -> None:
    verdicts, _ = run(row(2, "", "nova@x.com"), keys=["id", "emails"])
    codes = [(i.code, i.column, i.header) for i in verdicts[0].feedback]
    assert ("required_field_empty", None, "Nome") in codes


def test_a_new_contact_with_an_existing_email_is_a_possible_duplicate() -> None:
    verdicts, _ = run(sheet_row(2, id="", name="Maria", emails="MARIA@cliente.com.br", updated_at=""))
    items = verdicts[0].feedback
    assert [where(i) for i in items] == [
        ("warning", "new_contact_will_be_created", 2, "A", "id"),
        ("warning", "possible_duplicate", 2, "C", "emails"),
    ]
    assert items[1].params == {"email": "MARIA@cliente.com.br", "contact_ids": [1001]}
    assert items[1].message() == (
        "Linha 2, coluna C (E-mail): o e-mail MARIA@cliente.com.br já pertence ao contato 1001: o "
        "contato novo pode ser uma duplicata. Para atualizar esse contato, use o ID dele."
    )
    assert verdicts[0].planned[0].action is RowAction.CREATE


class TestConflicts:
    CHANGED = contact(1001, updated_at=datetime(2024, 3, 6, 10, 0, 0, tzinfo=UTC))

    def test_a_contact_changed_after_the_export_is_a_warning_naming_what_will_be_overwritten(
        self,
    ) -> None:
        verdicts, summary = run(sheet_row(2, name="Novo"), records=(self.CHANGED,))
        judged = only_row(verdicts)
        (item,) = judged.feedback
        assert where(item) == ("warning", "changed_since_export", 2, "G", "updated_at")
        assert item.message() == (
            "Linha 2, coluna G (Atualizado em): o contato foi alterado em 06/03/2024 07:00:00, "
            "depois da exportação (05/03/2024 12:30:45). A importação vai sobrescrever: Nome."
        )
        # applied, guarded against changes after this validation only
        assert judged.planned.expected_updated_at == self.CHANGED.updated_at
        assert summary.counts.to_update == 1

    def test_rows_in_conflict_can_be_skipped(self) -> None:
        options = ValidationOptions(skip_conflicts=True)
        verdicts, summary = run(sheet_row(2, name="Novo"), records=(self.CHANGED,), options=options)
        judged = only_row(verdicts)
        assert judged.outcome is RowOutcome.SKIPPED and judged.planned is None
        assert judged.feedback[0].params["variant"] == "skip"
        assert (summary.counts.skipped, summary.counts.to_update) == (1, 0)

    def test_a_row_that_changes_nothing_is_no_conflict(self) -> None:
        verdicts, _ = run(sheet_row(2), records=(self.CHANGED,))
        assert only_row(verdicts).feedback == []

    def test_the_same_second_is_no_conflict(self) -> None:
        same_second = contact(1001, updated_at=datetime(2024, 3, 5, 15, 30, 45, 999999, tzinfo=UTC))
        verdicts, _ = run(sheet_row(2, name="Novo"), records=(same_second,))
        assert only_row(verdicts).feedback == []

    # The second: a date-time, but 31/12/0000 in the account's zone, which no export wrote.
    @pytest.mark.parametrize("updated_at", ["ontem", "0001-01-01T00:00:00+05:00"])
    def test_an_unreadable_updated_at_is_a_warning(self, updated_at: str) -> None:
        verdicts, _ = run(sheet_row(2, name="Novo", updated_at=updated_at))
        (item,) = only_row(verdicts).feedback
        assert where(item) == ("warning", "updated_at_unreadable", 2, "G", "updated_at")
        assert only_row(verdicts).planned.expected_updated_at is None


def test_read_only_columns_are_never_written() -> None:
    keys = ["id", "name", "created_at"]
    verdicts, _ = run(row(2, "1001", "Maria Oliveira", "01/01/2000 00:00:00"), keys=keys)
    assert only_row(verdicts).outcome is RowOutcome.UNCHANGED


def test_csv_feedback_names_the_column_by_header_only() -> None:
    setup = setup_for(CTX, HEADERS, with_letters=False)
    verdicts, _ = validate(setup, [sheet_row(2, legal_entity="talvez")], [CURRENT])  # type: ignore[list-item]
    (item,) = verdicts[0].feedback
    assert (item.column, item.header) == (None, "Jurídico")
    assert item.message().startswith('Linha 2, coluna "Jurídico": ')


def test_phone_validation_off_keeps_the_text() -> None:
    keys = ["id", "phones"]
    options = ValidationOptions(validate_phones=False)
    verdicts, _ = run(row(2, "1001", "ramal 12"), keys=keys, options=options)
    judged = only_row(verdicts)
    assert judged.feedback == [] and judged.planned.values == {"phones": ["ramal 12"]}


def test_blank_rows_are_passed_over() -> None:
    verdicts, summary = run(sheet_row(2), row(3, "", None, "  "), row(4))
    assert [r.row_number for r in verdicts[0].rows] == [2]
    assert summary.counts.rows == 1


def test_each_batch_asks_for_its_ids_and_the_emails_of_rows_without_an_id() -> None:
    validator = SheetValidator(setup_for(CTX, HEADERS))
    batch = validator.begin_batch([sheet_row(2), sheet_row(3, id="", emails="Nova@X.com; b@y.com")])
    assert batch.request.ids == [1001]
    assert batch.request.emails == ["nova@x.com", "b@y.com"]
    assert validator.follow_up(batch, ContactLookup(contacts=[CURRENT])) is None
    validator.judge_batch(batch, ContactLookup(contacts=[CURRENT]))
    assert validator.finish().counts.rows == 2


def test_the_emails_of_a_row_whose_id_is_unknown_are_asked_in_a_follow_up() -> None:
    validator = SheetValidator(setup_for(CTX, HEADERS))
    batch = validator.begin_batch(
        [
            sheet_row(2),
            sheet_row(3, id="99999", emails="Outro@X.com; terceiro@x.com"),
            sheet_row(4, id="", emails="outro@x.com; nova@x.com"),
        ]
    )
    assert batch.request.ids == [1001, 99999]
    assert batch.request.emails == ["outro@x.com", "nova@x.com"]
    # Another account's contact with that id is unknown too.
    elsewhere = CURRENT.model_copy(update={"id": 99999, "account_id": ACCOUNT_ID + 1})
    follow_up = validator.follow_up(batch, ContactLookup(contacts=[CURRENT, elsewhere]))
    # outro@x.com was asked already, for row 4.
    assert follow_up is not None and follow_up.ids == [] and follow_up.emails == ["terceiro@x.com"]


def test_batches_may_be_begun_ahead_but_are_judged_in_order() -> None:
    validator = SheetValidator(setup_for(CTX, HEADERS))
    first = validator.begin_batch([sheet_row(2)])
    second = validator.begin_batch([sheet_row(3, id="", emails="nova@x.com")])
    with pytest.raises(RuntimeError, match="out of turn"):
        validator.judge_batch(second, ContactLookup(contacts=[]))
    validator.judge_batch(first, ContactLookup(contacts=[CURRENT]))
    with pytest.raises(RuntimeError, match="not judged"):
        validator.finish()
    validator.judge_batch(second, ContactLookup(contacts=[]))
    assert validator.finish().counts.rows == 2


def test_a_row_whose_id_is_unknown_is_checked_for_a_possible_duplicate() -> None:
    holder = CURRENT.model_copy(update={"emails": ["dono@x.com"]})
    verdicts, _ = run(sheet_row(2, id="99999", name="Novo", emails="DONO@x.com", updated_at=""), records=[holder])
    codes = [i.code for i in verdicts[0].feedback]
    assert "possible_duplicate" in codes
    assert verdicts[0].planned[0].action is RowAction.CREATE


def test_errors_with_the_skip_option_still_allow_starting() -> None:
    _, summary = run(sheet_row(2, legal_entity="talvez"), options=ValidationOptions(skip_rows_with_errors=True))
    assert summary.counts.rows_with_errors == 1 and summary.ready_to_start
