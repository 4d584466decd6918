import re
from pathlib import Path

import pytest

from services.importer.domain.feedback import (
    FeedbackItem,
    Severity,
    cell_as_text,
    feedback,
    message,
)
from services.importer.domain.feedback_messages import MESSAGES, SEVERITY
from services.importer.domain.sheet import FormulaWithoutValue

DOC = Path(__file__).resolve().parents[4] / "docs" / "feedback-codes.md"

# Params as validation gives them, per code (plus `value`, which items always carry).
EXAMPLE_PARAMS: dict[str, dict[str, object]] = {
    "formula_without_value": {"formula": "=A1"},
    "ambiguous_number": {"reading_a": "1234", "reading_b": "1,234"},
    "invalid_email": {"reason": "no @"},
    "unknown_option": {"options": ["A", "B"]},
    "unknown_owner": {"owners": ["Ana"]},
    "ambiguous_owner": {"candidates": ["João <a@x.com>", "João <b@x.com>"]},
    "unknown_lifecycle_stage": {"stages": ["Lead"]},
    "new_contact_will_be_created": {"id": 5},
    "id_not_found": {"id": 5},
    "duplicate_id": {"id": 5, "other_rows": [9]},
    "required_field_empty": {"field": "Nome"},
    "recommended_field_empty": {"field": "Nome"},
    "possible_duplicate": {"email": "a@x.com", "contact_ids": [5]},
    "changed_since_export": {
        "changed_at": "01/01/2024 10:00:00",
        "exported_at": "01/01/2024 09:00:00",
        "fields": ["Nome"],
    },
    "recommended_column_missing": {"field": "Nome"},
    "duplicate_column": {"field": "Nome", "first_column": "B"},
    "field_mapped_twice": {"field": "Nome", "columns": ["A", "B"]},
    "unknown_field": {"field": "x"},
    "column_out_of_range": {"column": "F"},
    "value_mangled": {"stored": "007"},
    "decimal_too_long": {"integer_digits": 131072, "fraction_digits": 16383},
}


def variants(code: str) -> list[str]:
    template = MESSAGES[code]["pt-BR"]
    return list(template) if isinstance(template, dict) else ["default"]


@pytest.mark.parametrize("code", sorted(MESSAGES))
@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_every_message_renders_with_all_its_params(code: str, locale: str) -> None:
    assert SEVERITY[code] in ("error", "warning")
    for variant in variants(code):
        params = {"value": "x", "variant": variant, **EXAMPLE_PARAMS.get(code, {})}
        text = message(code, params, locale)
        assert "?" not in text.replace("?b=", ""), text
        assert not re.search(r"\{\w+\}", text)


def test_every_code_is_documented_with_its_severity() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for code, severity in SEVERITY.items():
        assert f"### `{code}` ({severity})" in doc


def test_the_message_says_where() -> None:
    item = feedback("invalid_boolean", 7, column="F", header="Jurídico", field_key="legal_entity", cell="talvez")
    assert item.severity is Severity.ERROR
    assert item.message("pt-BR") == 'Linha 7, coluna F (Jurídico): "talvez" não é SIM nem NÃO. Use SIM ou NÃO.'
    assert item.message("en-US") == 'Row 7, column F (Jurídico): "talvez" is not Yes or No. Use Yes or No.'


def test_lists_in_messages_are_cut_after_twenty() -> None:
    text = message("unknown_option", {"value": "x", "options": [str(i) for i in range(25)]}, "pt-BR")
    assert text.endswith("15, 16, 17, 18, 19 (+5 outros).")


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, None),
        ("abc", "abc"),
        (12, "12"),
        (1.5, "1.5"),
        (True, "TRUE"),
        (FormulaWithoutValue("=A1"), "=A1"),
        ("x" * 300, "x" * 199 + "…"),
        ("Ana\x00B\x00", "Ana\ufffdB\ufffd"),  # stored in PostgreSQL text, which refuses NUL
    ],
)
def test_the_value_as_found(cell: object, text: str | None) -> None:
    assert cell_as_text(cell) == text  # type: ignore[arg-type]


def test_an_item_is_plain_data() -> None:
    item = FeedbackItem(Severity.WARNING, "recommended_column_missing", None, params={"field": "Nome"})
    assert item.message() == "a planilha não tem (ou não importa) a coluna Nome, recomendada numa atualização."
