from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.mapping import (
    MatchSource,
    check_confirmed_mapping,
    header_signature,
    remembered_keys,
    suggest_mapping,
)
from services.importer.domain.sheet import ExportMetadata
from shared.contacts_api import CustomFieldDefinition
from shared.fields import FieldType

from .builders import CUSTOM_FIELDS, account

FIELDS = AccountFields.from_account(account())

PT_HEADERS = [
    "ID",
    "Nome",
    "E-mail",
    "Telefone",
    "Empresa",
    "Cargo",
    "Sessão (Ciclo de vida)",
    "Responsável",
    "Jurídico",
    "Tags",
    "Criado em",
    "Atualizado em",
    "Renda mensal",
]
KEYS = [
    "id",
    "name",
    "emails",
    "phones",
    "company",
    "job_title",
    "lifecycle_stage",
    "owner",
    "legal_entity",
    "tags",
    "created_at",
    "updated_at",
    "renda",
]


def keys_of(headers: list[str], **kwargs: object) -> list[str | None]:
    mapping = suggest_mapping(headers, FIELDS, **kwargs)  # type: ignore[arg-type]
    return [c.field_key for c in mapping.columns]


def test_pt_br_labels_map_and_say_the_sheet_is_pt_br() -> None:
    mapping = suggest_mapping(PT_HEADERS, FIELDS, account_locale="en")
    assert [c.field_key for c in mapping.columns] == KEYS
    assert mapping.sheet_locale == "pt-BR"
    assert mapping.feedback == ()


def test_english_labels_map_and_say_the_sheet_is_english() -> None:
    headers = [
        "ID",
        "Name",
        "Email",
        "Phone",
        "Company",
        "Job title",
        "Lifecycle stage",
        "Owner",
        "Legal entity",
        "Tags",
        "Created at",
        "Updated at",
        "Renda mensal",
    ]
    mapping = suggest_mapping(headers, FIELDS)
    assert [c.field_key for c in mapping.columns] == KEYS
    assert mapping.sheet_locale == "en"


def test_field_keys_map() -> None:
    assert keys_of(KEYS) == KEYS


def test_case_accents_punctuation_and_spacing_are_ignored() -> None:
    headers = [
        " nome ",
        "SESSAO CICLO DE VIDA",
        "responsavel",
        "JURÍDICO",
        "e mail",
        "renda  mensal",
        "FUNCIONARIOS",
    ]
    assert keys_of(headers) == [
        "name",
        "lifecycle_stage",
        "owner",
        "legal_entity",
        "emails",
        "renda",
        "funcionarios",
    ]


def test_aliases() -> None:
    headers = ["Jurídico (SIM/NÃO)", "Celular", "Sessão", "E-mails", "Nome completo"]
    mapping = suggest_mapping(headers, FIELDS)
    assert [c.field_key for c in mapping.columns] == [
        "legal_entity",
        "phones",
        "lifecycle_stage",
        "emails",
        "name",
    ]
    assert {c.source for c in mapping.columns} == {MatchSource.ALIAS}


def test_a_custom_field_label_wins_over_an_alias() -> None:
    fields = AccountFields.from_account(
        account(
            custom_fields=[
                *CUSTOM_FIELDS,
                CustomFieldDefinition(key="cel", label="Celular", type=FieldType.PHONE),
            ]
        )
    )
    mapping = suggest_mapping(["Telefone", "Celular"], fields)
    assert [c.field_key for c in mapping.columns] == ["phones", "cel"]


def test_unmatched_columns_are_listed_as_ignored() -> None:
    mapping = suggest_mapping(["Nome", "Observação minha", ""], FIELDS)
    assert [(c.letter, c.header) for c in mapping.ignored_columns] == [
        ("B", "Observação minha"),
        ("C", ""),
    ]
    assert mapping.fields_by_column == {0: "name"}


def test_a_second_column_for_the_same_field_is_ignored_with_a_warning() -> None:
    mapping = suggest_mapping(["Nome", "Telefone", "Celular"], FIELDS, header_row_number=1)
    assert mapping.fields_by_column == {0: "name", 1: "phones"}
    (item,) = mapping.feedback
    assert (
        item.severity,
        item.code,
        item.row_number,
        item.column,
        item.header,
        item.field_key,
    ) == ("warning", "duplicate_column", 1, "C", "Celular", "phones")
    assert item.params == {"field": "Telefone", "first_column": "B"}
    assert item.message("pt-BR") == (
        "Linha 1, coluna C (Celular): esta coluna também corresponde ao campo Telefone, já lido "
        "da coluna B; ela será ignorada."
    )


def test_csv_names_the_first_column_by_its_header() -> None:
    mapping = suggest_mapping(["Telefone", "Celular"], FIELDS, with_letters=False)
    (item,) = mapping.feedback
    assert item.column is None
    assert item.params["first_column"] == '"Telefone"'


class TestExportMetadata:
    def test_intact_layout_maps_by_keys_even_where_a_header_was_renamed(self) -> None:
        headers = [*PT_HEADERS]
        headers[4] = "Empresa onde trabalha"  # renamed: matches nothing
        metadata = ExportMetadata("exp-1", tuple(KEYS))
        mapping = suggest_mapping(headers, FIELDS, export_metadata=metadata)
        assert [c.field_key for c in mapping.columns] == KEYS
        assert mapping.columns[4].source is MatchSource.EXPORT_METADATA

    def test_reordered_columns_fall_back_to_the_headers(self) -> None:
        headers = [PT_HEADERS[1], PT_HEADERS[0], *PT_HEADERS[2:]]  # Nome and ID swapped
        metadata = ExportMetadata("exp-1", tuple(KEYS))
        assert keys_of(headers, export_metadata=metadata) == [KEYS[1], KEYS[0], *KEYS[2:]]

    def test_an_inserted_column_falls_back_to_the_headers(self) -> None:
        # An unknown header at a position the metadata gives a key for: the count differs,
        # so the metadata no longer lines up and must not name that column "company".
        headers = [*PT_HEADERS[:4], "Minhas notas", *PT_HEADERS[4:]]
        metadata = ExportMetadata("exp-1", tuple(KEYS))
        assert keys_of(headers, export_metadata=metadata) == [*KEYS[:4], None, *KEYS[4:]]

    def test_a_deleted_column_falls_back_to_the_headers(self) -> None:
        headers = PT_HEADERS[:3] + PT_HEADERS[4:]
        metadata = ExportMetadata("exp-1", tuple(KEYS))
        assert keys_of(headers, export_metadata=metadata) == KEYS[:3] + KEYS[4:]

    def test_a_key_unknown_to_the_account_falls_back_to_the_header(self) -> None:
        metadata = ExportMetadata("exp-1", ("name", "campo_apagado"))
        assert keys_of(["Nome", "Renda mensal"], export_metadata=metadata) == ["name", "renda"]


class TestRememberedMapping:
    def test_signature_ignores_case_accents_and_spacing_but_not_order(self) -> None:
        assert header_signature(["Nome", "E-mail"]) == header_signature([" NOME", "e-mail "])
        assert header_signature(["Nome", "E-mail"]) != header_signature(["E-mail", "Nome"])
        assert header_signature(["Nome"]) != header_signature(["Nome", ""])
        assert len(header_signature(["Nome"])) == 32

    def test_a_remembered_mapping_is_suggested_first(self) -> None:
        headers = ["Cliente", "Contato", "Tags"]
        remembered = remembered_keys({0: "name", 1: "emails"}, 3)  # Tags deliberately left out
        mapping = suggest_mapping(headers, FIELDS, remembered=remembered)
        assert [c.field_key for c in mapping.columns] == ["name", "emails", None]
        assert mapping.columns[0].source is MatchSource.REMEMBERED

    def test_a_remembered_field_that_no_longer_exists_is_dropped(self) -> None:
        mapping = suggest_mapping(["Nome", "X"], FIELDS, remembered=["name", "campo_apagado"])
        assert mapping.fields_by_column == {0: "name"}


class TestConfirmedMapping:
    def test_a_good_mapping_has_no_problems(self) -> None:
        assert check_confirmed_mapping({0: "id", 1: "name"}, ["ID", "Nome"], FIELDS) == []

    def test_problems(self) -> None:
        problems = check_confirmed_mapping({0: "name", 1: "name", 2: "nada", 5: "emails"}, ["A", "B", "C"], FIELDS)
        assert [(p.code, p.severity) for p in problems] == [
            ("unknown_field", "error"),
            ("column_out_of_range", "error"),
            ("field_mapped_twice", "error"),
        ]
        assert problems[2].params == {"field": "Nome", "columns": ["A", "B"]}
        assert problems[1].message("en") == "the sheet has no column F."
