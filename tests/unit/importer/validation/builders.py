"""Accounts, contacts and export-looking rows for the importer's domain tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.export.domain.cell_values import text_cells
from services.export.domain.columns import ExportColumn, available_fields
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.mapping import suggest_mapping
from services.importer.domain.sheet import CellValue, RawRow
from services.importer.domain.validation import (
    BatchVerdict,
    SheetValidator,
    ValidationSummary,
    merged,
)
from services.importer.domain.validation_setup import ValidationOptions, ValidationSetup
from shared.cells import format_boolean, format_date, format_datetime, format_decimal
from shared.contacts_api import (
    AccountContext,
    CellRendition,
    ContactLookup,
    ContactLookupRequest,
    ContactRecord,
    CustomFieldDefinition,
    LifecycleStage,
    Owner,
)
from shared.fields import MULTI_VALUE_SEPARATOR, FieldType

ACCOUNT_ID = 7
TZ = "America/Sao_Paulo"

CUSTOM_FIELDS = [
    CustomFieldDefinition(key="renda", label="Renda mensal", type=FieldType.DECIMAL),
    CustomFieldDefinition(key="funcionarios", label="Funcionários", type=FieldType.NUMBER),
    CustomFieldDefinition(key="fundacao", label="Data de fundação", type=FieldType.DATE),
    CustomFieldDefinition(key="ultimo_contato", label="Último contato", type=FieldType.DATETIME),
    CustomFieldDefinition(key="cliente_ativo", label="Cliente ativo", type=FieldType.BOOLEAN),
    CustomFieldDefinition(
        key="segmento",
        label="Segmento",
        type=FieldType.SINGLE_SELECT,
        options=["Varejo", "Indústria", "Serviços"],
    ),
    CustomFieldDefinition(
        key="interesses",
        label="Interesses",
        type=FieldType.MULTI_SELECT,
        options=["Café", "Chá", "Água"],
    ),
    CustomFieldDefinition(key="observacoes", label="Observações", type=FieldType.LONG_TEXT),
    CustomFieldDefinition(key="site", label="Site", type=FieldType.URL),
    CustomFieldDefinition(key="email_cobranca", label="E-mail de cobrança", type=FieldType.EMAIL),
    CustomFieldDefinition(key="whatsapp", label="WhatsApp", type=FieldType.PHONE),
    CustomFieldDefinition(key="cpf", label="CPF", type=FieldType.TEXT),
]

OWNERS = [
    Owner(id=11, name="Ana Souza", email="ana@empresa.com.br"),
    Owner(id=12, name="João Silva", email="joao@empresa.com.br"),
    Owner(id=13, name="João Silva", email="joao.silva2@empresa.com.br"),
    Owner(id=14, name="Márcia Lima", email="marcia@empresa.com.br"),
]
STAGES = [
    LifecycleStage(key="lead", name="Lead", position=1),
    LifecycleStage(key="opportunity", name="Oportunidade", position=2),
    LifecycleStage(key="customer", name="Cliente", position=3),
]


def account(*, locale: str = "pt-BR", custom_fields: Sequence[CustomFieldDefinition] = CUSTOM_FIELDS) -> AccountContext:
    return AccountContext(
        account_id=ACCOUNT_ID,
        name="Loja Exemplo",
        locale=locale,
        timezone=TZ,
        owners=OWNERS,
        lifecycle_stages=STAGES,
        custom_fields=list(custom_fields),
    )


def contact(contact_id: int = 1001, **values: Any) -> ContactRecord:
    record: dict[str, Any] = {
        "id": contact_id,
        "account_id": ACCOUNT_ID,
        "name": "Maria Oliveira",
        "emails": ["maria@cliente.com.br"],
        "phones": ["+5511987654321"],
        "company": "Padaria Pão Quente",
        "job_title": "Gerente",
        "lifecycle_stage": "lead",
        "owner_id": 11,
        "legal_entity": False,
        "tags": ["vip"],
        "custom_fields": {"cpf": "123.456.789-09"},
        "created_at": datetime(2024, 1, 10, 12, 0, tzinfo=UTC),
        "updated_at": datetime(2024, 3, 5, 15, 30, 45, 123000, tzinfo=UTC),
        "version": 3,
    }
    record.update(values)
    return ContactRecord(**record)


def export_cell(ctx: AccountContext, field_key: str, record: ContactRecord, locale: str = "pt-BR") -> str:
    """What the export writes in a CSV cell for this field (after formula un-escaping)."""
    fields = AccountFields.from_account(ctx)
    spec = fields.by_key[field_key]
    if field_key == "owner":
        owner = next((o for o in ctx.owners if o.id == record.owner_id), None)
        return owner.name if owner else ""
    if field_key == "lifecycle_stage":
        stage = next((s for s in ctx.lifecycle_stages if s.key == record.lifecycle_stage), None)
        return stage.name if stage else ""
    value = record.custom_fields.get(field_key) if spec.custom else getattr(record, field_key)
    return format_value(spec.type, value, locale)


def format_value(field_type: FieldType, value: Any, locale: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return MULTI_VALUE_SEPARATOR.join(map(str, value))
    if field_type is FieldType.BOOLEAN:
        return format_boolean(value, locale)
    if field_type is FieldType.DECIMAL:
        return format_decimal(Decimal(str(value)), locale)
    if field_type is FieldType.DATE:
        return format_date(date.fromisoformat(str(value)), locale)
    if field_type is FieldType.DATETIME:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return format_datetime(moment, locale, TZ)
    return str(value)


def export_headers(ctx: AccountContext, keys: Sequence[str], locale: str = "pt-BR") -> list[str]:
    fields = AccountFields.from_account(ctx)
    return [fields.by_key[k].label(locale) for k in keys]


def export_rows(
    ctx: AccountContext,
    keys: Sequence[str],
    records: Iterable[ContactRecord],
    locale: str = "pt-BR",
) -> list[RawRow]:
    return [
        RawRow(row_number, tuple(export_cell(ctx, k, r, locale) for k in keys))
        for row_number, r in enumerate(records, start=2)
    ]


def setup_for(
    ctx: AccountContext,
    headers: Sequence[str],
    *,
    columns: Mapping[int, str] | None = None,
    options: ValidationOptions | None = None,
    with_letters: bool = True,
    text_cells: bool | None = None,
) -> ValidationSetup:
    """A CSV-like setup (`with_letters=False`) has text cells unless told otherwise."""
    suggestion = suggest_mapping(headers, AccountFields.from_account(ctx), account_locale=ctx.locale)
    return ValidationSetup(
        account=ctx,
        columns=columns if columns is not None else suggestion.fields_by_column,
        headers=tuple(headers),
        with_letters=with_letters,
        sheet_locale=suggestion.sheet_locale,
        options=options or ValidationOptions(),
        text_cells=not with_letters if text_cells is None else text_cells,
    )


def shown_cells(ctx: AccountContext, rendition: CellRendition, record: ContactRecord) -> list[str | None]:
    """A contact's cells as a CSV of the export shows them once read back (formula
    escaping undone), by the export's own Python code: the reference that the contacts
    service's SQL rendition is proven equal to (tests/integration/contacts)."""
    by_key = {spec.key: spec for spec in available_fields(ctx)}
    columns = [ExportColumn(field=by_key[c.key], header=c.key) for c in rendition.columns]
    return text_cells(columns, ctx, rendition.locale.value)(record)


class InMemoryContacts:
    """The lookup the service would make, over a list of contacts (any account)."""

    def __init__(self, records: Iterable[ContactRecord], ctx: AccountContext | None = None) -> None:
        self.records = list(records)
        self.ctx = ctx
        self.requests: list[ContactLookupRequest] = []

    def lookup(self, request: ContactLookupRequest) -> ContactLookup:
        self.requests.append(request)
        wanted = set(request.ids)
        found = [r for r in self.records if r.id in wanted]
        owners: dict[str, list[int]] = {}
        for email in request.emails:
            ids = [r.id for r in self.records if r.account_id == ACCOUNT_ID and email in (e.lower() for e in r.emails)]
            if ids:
                owners[email] = ids
        cells = {}
        if request.cells is not None:
            assert self.ctx is not None, "rendering cells needs the account"
            cells = {r.id: shown_cells(self.ctx, request.cells, r) for r in found if r.account_id == ACCOUNT_ID}
        return ContactLookup(contacts=found if request.with_contacts else [], email_owners=owners, cells=cells)


def validate(
    setup: ValidationSetup,
    rows: Sequence[RawRow],
    records: Iterable[ContactRecord] = (),
    batch_size: int = 1000,
) -> tuple[list[BatchVerdict], ValidationSummary]:
    validator = SheetValidator(setup)
    contacts = InMemoryContacts(records, setup.account)
    verdicts = []
    for start in range(0, len(rows), batch_size):
        batch = validator.begin_batch(rows[start : start + batch_size])
        lookup = contacts.lookup(batch.request)
        if more := validator.follow_up(batch, lookup):
            lookup = merged(lookup, contacts.lookup(more))
        verdicts.append(validator.judge_batch(batch, lookup))
    return verdicts, validator.finish()


def row(row_number: int, *cells: CellValue) -> RawRow:
    return RawRow(row_number, tuple(cells))
