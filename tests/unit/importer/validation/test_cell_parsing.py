from datetime import date, datetime

import pytest

from services.importer.domain.cell_parsing import CellParser
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.parse_problem import ParseProblem
from services.importer.domain.sheet import CellValue, FormulaWithoutValue

from .builders import account

FIELDS = AccountFields.from_account(account())
PARSER = CellParser(account(), "pt-BR")


def parse(cell: CellValue, key: str, parser: CellParser = PARSER) -> object:
    return parser.parse(cell, FIELDS.by_key[key])


def problem(cell: CellValue, key: str, parser: CellParser = PARSER) -> ParseProblem:
    result = parse(cell, key, parser)
    assert isinstance(result, ParseProblem), result
    return result


@pytest.mark.parametrize(
    ("cell", "key", "empty"),
    [
        (None, "name", None),
        ("", "company", None),
        ("   ", "renda", None),
        (None, "tags", []),
        ("  ", "emails", []),
        (None, "interesses", []),
        (None, "legal_entity", None),
    ],
)
def test_empty_cells_read_as_the_empty_value(cell: CellValue, key: str, empty: object) -> None:
    assert parse(cell, key) == empty


def test_formula_without_a_cached_value_is_a_problem_for_any_field() -> None:
    assert problem(FormulaWithoutValue("=A1+1"), "name") == ParseProblem("formula_without_value", {"formula": "=A1+1"})


class TestText:
    def test_keeps_inner_whitespace_and_strips_the_ends(self) -> None:
        assert parse("  Padaria  Pão Quente ", "company") == "Padaria  Pão Quente"

    def test_keeps_what_the_csv_escape_protected(self) -> None:
        assert parse("=SOMA(A1)", "company") == "=SOMA(A1)"
        assert parse("+55 é texto", "job_title") == "+55 é texto"

    @pytest.mark.parametrize(
        ("cell", "expected"),
        [
            (123, "123"),
            (123.0, "123"),
            (1.5, "1.5"),
            (True, "SIM"),
            (date(2024, 2, 1), "01/02/2024"),
            (datetime(2024, 2, 1, 10, 0), "01/02/2024 10:00:00"),
        ],
    )
    def test_typed_xlsx_cells_read_as_the_user_saw_them(self, cell: CellValue, expected: str) -> None:
        assert parse(cell, "company") == expected

    def test_long_text_keeps_line_breaks_as_lf(self) -> None:
        assert parse("linha 1\r\nlinha 2\rlinha 3\n", "observacoes") == "linha 1\nlinha 2\nlinha 3"


class TestBoolean:
    @pytest.mark.parametrize(
        "cell",
        [
            "SIM",
            "Sim",
            "sim",
            "S",
            "s",
            "true",
            "TRUE",
            "Verdadeiro",
            "VERDADEIRO",
            "1",
            "Yes",
            "y",
            True,
            1,
            1.0,
            " SIM ",
        ],
    )
    def test_true(self, cell: CellValue) -> None:
        assert parse(cell, "legal_entity") is True

    @pytest.mark.parametrize(
        "cell",
        ["NÃO", "Não", "nao", "NAO", "N", "n", "false", "Falso", "FALSO", "0", "No", False, 0, 0.0],
    )
    def test_false(self, cell: CellValue) -> None:
        assert parse(cell, "legal_entity") is False

    @pytest.mark.parametrize("cell", ["talvez", "2", 2, "sim não"])
    def test_anything_else_is_a_problem(self, cell: CellValue) -> None:
        assert problem(cell, "legal_entity").code == "invalid_boolean"


class TestEmail:
    def test_lowercases_the_domain_only(self) -> None:
        assert parse(" Maria.Silva@Cliente.COM.BR ", "email_cobranca") == "Maria.Silva@cliente.com.br"

    @pytest.mark.parametrize("cell", ["maria", "maria@", "maria@@x.com", "maria @x.com", "a@b"])
    def test_bad_syntax_is_a_problem(self, cell: str) -> None:
        found = problem(cell, "email_cobranca")
        assert found.code == "invalid_email"
        assert found.params["value"] == cell.strip()

    def test_with_email_validation_off_a_bad_email_is_kept_as_typed(self) -> None:
        parser = CellParser(account(), "pt-BR", validate_emails=False)
        assert parse("Maria@EXEMPLO", "email_cobranca", parser) == "Maria@exemplo"

    def test_list_splits_on_comma_and_semicolon_and_drops_repeats(self) -> None:
        cell = "a@x.com, b@x.com; A@X.com;; c@x.com"
        assert parse(cell, "emails") == ["a@x.com", "b@x.com", "c@x.com"]

    def test_list_reports_the_bad_item(self) -> None:
        found = problem("a@x.com; nada", "emails")
        assert (found.code, found.params["value"]) == ("invalid_email", "nada")


class TestPhone:
    @pytest.mark.parametrize(
        "cell",
        [
            "(11) 98765-4321",
            "11 98765-4321",
            "+55 11 98765-4321",
            "011 98765-4321",
            "5511987654321",
            "+5511987654321",
            11987654321,
            11987654321.0,
        ],
    )
    def test_brazilian_forms_become_e164(self, cell: CellValue) -> None:
        assert parse(cell, "whatsapp") == "+5511987654321"

    def test_foreign_numbers_with_their_country_code(self) -> None:
        assert parse("+1 650 253 0000", "whatsapp") == "+16502530000"

    @pytest.mark.parametrize("cell", ["98765-4321", "123", "telefone", "+55 11 1234"])
    def test_invalid_numbers_are_a_problem(self, cell: str) -> None:
        assert problem(cell, "whatsapp") == ParseProblem("invalid_phone", {"value": cell})

    def test_with_phone_validation_off_the_text_is_kept(self) -> None:
        parser = CellParser(account(), "pt-BR", validate_phones=False)
        assert parse("ramal 123", "whatsapp", parser) == "ramal 123"

    def test_list(self) -> None:
        assert parse("(11) 98765-4321; (21) 2345-6789", "phones") == [
            "+5511987654321",
            "+552123456789",
        ]


class TestUrl:
    @pytest.mark.parametrize(
        "cell",
        ["https://www.exemplo.com.br/a?b=1", "http://x.io", "www.exemplo.com.br", "exemplo.com"],
    )
    def test_web_addresses_are_kept_as_typed(self, cell: str) -> None:
        assert parse(cell, "site") == cell

    @pytest.mark.parametrize("cell", ["ftp://x.com", "exemplo", "https://exemplo .com", "javascript:alert(1)"])
    def test_other_text_is_a_problem(self, cell: str) -> None:
        assert problem(cell, "site").code == "invalid_url"


class TestSelects:
    def test_single_select_matches_case_and_accent_insensitively(self) -> None:
        assert parse("industria", "segmento") == "Indústria"
        assert parse(" SERVIÇOS ", "segmento") == "Serviços"

    def test_unknown_option_names_the_valid_ones(self) -> None:
        assert problem("Agro", "segmento") == ParseProblem(
            "unknown_option", {"value": "Agro", "options": ["Varejo", "Indústria", "Serviços"]}
        )

    def test_multi_select(self) -> None:
        assert parse("cafe; AGUA, Café", "interesses") == ["Café", "Água"]

    def test_multi_select_unknown_option(self) -> None:
        assert problem("Café, Suco", "interesses").params["value"] == "Suco"

    def test_tags_are_free_text_split_and_deduplicated(self) -> None:
        assert parse("vip; Cliente Novo, VIP", "tags") == ["vip", "Cliente Novo"]


class TestOwner:
    @pytest.mark.parametrize(
        "cell",
        [
            "Ana Souza",
            "ana souza",
            "ANA  SOUZA",
            "ana@empresa.com.br",
            "ANA@EMPRESA.COM.BR",
            "Ana Souza <ana@empresa.com.br>",
        ],
    )
    def test_by_name_or_email(self, cell: str) -> None:
        assert parse(cell, "owner") == 11

    def test_accents_ignored(self) -> None:
        assert parse("marcia lima", "owner") == 14

    def test_a_shared_name_is_ambiguous_and_names_the_candidates(self) -> None:
        found = problem("Joao Silva", "owner")
        assert found.code == "ambiguous_owner"
        assert found.params["candidates"] == [
            "João Silva <joao@empresa.com.br>",
            "João Silva <joao.silva2@empresa.com.br>",
        ]
        assert found.params["candidate_ids"] == [12, 13]

    def test_the_email_settles_a_shared_name(self) -> None:
        assert parse("João Silva <joao.silva2@empresa.com.br>", "owner") == 13

    def test_unknown_owner_names_the_users(self) -> None:
        found = problem("Pedro", "owner")
        assert found.code == "unknown_owner"
        assert found.params["owners"] == ["Ana Souza", "João Silva", "João Silva", "Márcia Lima"]


class TestLifecycleStage:
    @pytest.mark.parametrize("cell", ["Oportunidade", "oportunidade", "opportunity"])
    def test_by_name_or_key(self, cell: str) -> None:
        assert parse(cell, "lifecycle_stage") == "opportunity"

    def test_unknown_names_the_stages_in_order(self) -> None:
        assert problem("Perdido", "lifecycle_stage") == ParseProblem(
            "unknown_lifecycle_stage",
            {"value": "Perdido", "stages": ["Lead", "Oportunidade", "Cliente"]},
        )


class TestTypedCustomFields:
    def test_canonical_forms(self) -> None:
        assert parse("1.234,50", "renda") == "1234.50"
        assert parse(1234.5, "renda") == "1234.5"
        assert parse("1.200", "funcionarios") == 1200
        assert parse("01/02/2024", "fundacao") == "2024-02-01"
        assert parse(45323, "fundacao") == "2024-02-01"
        assert parse("01/02/2024 10:00", "ultimo_contato") == "2024-02-01T10:00:00-03:00"
