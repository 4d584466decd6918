"""The "confirm import" use case ("Finalizar importação"): the fields to import, a tag
and the options are checked against the sheet and the account, remembered for these
headers, and validation is queued (the job becomes `validating`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from services.importer.adapters.import_repository import ImportRecord, ImportRepository
from services.importer.domain.feedback import FeedbackItem, message
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.mapping import check_confirmed_mapping, remembered_keys
from services.importer.domain.validation_setup import ValidationOptions
from services.importer.service_layer.ports import ContactsGateway, PublishEvent
from shared.events import ValidateImport
from shared.topics import IMPORT_VALIDATE

# Never written, but validation needs them whenever the sheet has them: `id` keys the
# rows, `updated_at` detects conflicts (domain.validation_setup).
KEY_FIELDS = ("id", "updated_at")
MAX_TAG_CHARS = 100


class ImportNotFound(Exception):
    pass


class ImportStateConflict(Exception):
    def __init__(self, state: str) -> None:
        super().__init__(f"the import is {state}")
        self.state = state


@dataclass(frozen=True, slots=True)
class ConfirmProblem:
    code: str
    message: str
    field: str | None = None
    column: str | None = None


class ConfirmRejected(Exception):
    def __init__(self, problems: Sequence[ConfirmProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class ConfirmChoice:
    """`fields`: column index → field key, or field keys taken from the suggested mapping."""

    fields: Mapping[int, str] | Sequence[str]
    tag: str | None = None
    options: ValidationOptions = field(default_factory=ValidationOptions)


def options_as_json(options: ValidationOptions) -> dict[str, Any]:
    return asdict(options)


def options_from_json(stored: Mapping[str, Any] | None) -> ValidationOptions:
    known = ValidationOptions.__dataclass_fields__
    return ValidationOptions(**{k: v for k, v in (stored or {}).items() if k in known})


@dataclass
class ConfirmImport:
    repository: ImportRepository
    contacts: ContactsGateway
    publish: PublishEvent

    async def __call__(self, account_id: int, import_id: uuid.UUID, choice: ConfirmChoice, locale: str) -> ImportRecord:
        record = await self.repository.get(account_id, import_id)
        if record is None:
            raise ImportNotFound(str(import_id))
        if record.state not in ("prepared", "validated"):
            raise ImportStateConflict(record.state)
        account = await self.contacts.account_context(account_id)
        fields = AccountFields.from_account(account)
        columns = resolve_columns(record, choice, fields, locale)
        write_fields = [key for _, key in sorted(columns.items()) if fields.by_key[key].writable]
        tag = (choice.tag or "").strip() or None
        _check_choice(columns, write_fields, tag, choice.options, locale)
        await self.repository.remember_mapping(
            account_id, record.header_signature or "", remembered_keys(columns, len(record.header))
        )
        version = await self.repository.confirm(
            import_id,
            confirmed_columns=columns,
            write_fields=write_fields,
            tag=tag,
            options=options_as_json(choice.options),
        )
        if version is None:  # confirmed by a concurrent request meanwhile
            current = await self.repository.get(account_id, import_id)
            raise ImportStateConflict(current.state if current else "gone")
        command = ValidateImport(account_id=account_id, import_id=import_id, confirm_version=version)
        await self.publish(IMPORT_VALIDATE, str(import_id), command)
        updated = await self.repository.get(account_id, import_id)
        assert updated is not None
        return updated


def resolve_columns(record: ImportRecord, choice: ConfirmChoice, fields: AccountFields, locale: str) -> dict[int, str]:
    """The confirmed column → field mapping, with the key columns added; raises
    ConfirmRejected naming every problem."""
    suggested = {c["index"]: c["suggested_field"] for c in record.columns if c.get("suggested_field")}
    problems: list[ConfirmProblem] = []
    if isinstance(choice.fields, Mapping):
        columns = {int(k): v for k, v in choice.fields.items()}
    else:
        by_field = {key: index for index, key in suggested.items()}
        columns = {}
        for key in choice.fields:
            if key in by_field:
                columns[by_field[key]] = key
            else:
                problems.append(
                    ConfirmProblem(
                        "field_not_in_sheet",
                        _en_or_pt(
                            locale,
                            f'no column of the sheet was matched to the field "{key}": give the column index for it',
                            f'nenhuma coluna da planilha corresponde ao campo "{key}": informe o índice da coluna',
                        ),
                        field=key,
                    )
                )
    with_letters = not record.is_csv
    checks = check_confirmed_mapping(columns, record.header, fields, locale=locale, with_letters=with_letters)
    problems.extend(_problem(item, locale) for item in checks)
    if problems:
        raise ConfirmRejected(problems)
    for key in KEY_FIELDS:
        index = next((i for i, k in suggested.items() if k == key), None)
        if index is not None and key not in columns.values() and index not in columns:
            columns[index] = key
    return columns


def _check_choice(
    columns: Mapping[int, str], write_fields: Sequence[str], tag: str | None, options: ValidationOptions, locale: str
) -> None:
    problems = []
    if not write_fields:
        problems.append(
            ConfirmProblem(
                "no_field_to_import",
                _en_or_pt(locale, "choose at least one field to import", "escolha ao menos um campo para importar"),
            )
        )
    if not options.create_unknown_ids and "id" not in columns.values():
        problems.append(
            ConfirmProblem(
                "no_id_column",
                _en_or_pt(
                    locale,
                    'the sheet has no ID column, and the option "unknown ID is an error" would refuse every row',
                    'a planilha não tem coluna ID, e a opção "ID desconhecido é erro" recusaria todas as linhas',
                ),
                field="id",
            )
        )
    if tag is not None and ("," in tag or len(tag) > MAX_TAG_CHARS):
        problems.append(
            ConfirmProblem(
                "invalid_tag",
                _en_or_pt(
                    locale,
                    f"the tag must have at most {MAX_TAG_CHARS} characters and no comma",
                    f"a tag deve ter no máximo {MAX_TAG_CHARS} caracteres e nenhuma vírgula",
                ),
            )
        )
    if problems:
        raise ConfirmRejected(problems)


def _problem(item: FeedbackItem, locale: str) -> ConfirmProblem:
    return ConfirmProblem(
        item.code, message(item.code, {"value": item.value or "", **item.params}, locale), item.field_key, item.column
    )


def _en_or_pt(locale: str, en: str, pt: str) -> str:
    return en if locale == "en" else pt
