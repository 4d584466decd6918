"""The contacts service's internal API, used by the export and importer services.

Only the contacts service touches contact data. The other services reach it over HTTP
(documented in its OpenAPI document under the `internal` tag), authenticated with the
deployment's internal service token:

- `POST /internal/v1/tokens/introspect`: which account a user's API token names;
- `GET  /internal/v1/accounts/{account_id}/context`: owners, stages, custom fields,
  locale and time zone, i.e. what a sheet needs to show and resolve names;
- `POST /internal/v1/accounts/{account_id}/selection/count`: how many contacts a
  selection holds (the export checks the XLSX row limit before writing);
- `POST /internal/v1/accounts/{account_id}/selection/stream`: every contact of a
  selection in id order, as NDJSON (`ContactRecord` a line), read in one snapshot;
- `POST /internal/v1/accounts/{account_id}/selection/csv-rows`: the CSV records of a
  selection, rendered by PostgreSQL from a column plan (`SelectionCsvRequest`) that the
  export decides, as PostgreSQL's COPY CSV output (no header, LF row ends; see the route);
- `POST /internal/v1/accounts/{account_id}/contacts/lookup`: current values of the
  given ids, and which existing contacts hold the given emails (import validation);
- `POST /internal/v1/accounts/{account_id}/bulk-apply`: one batch of ID-keyed updates
  and creates, in one transaction, idempotent by `idempotency_key`.

Values in `ContactRecord.custom_fields` and `BulkApplyRow.values` are canonical JSON:
dates `YYYY-MM-DD`, datetimes ISO 8601 with offset, decimals as strings, multi-select
as lists, `owner` as the owner's user id, `lifecycle_stage` as the stage key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, model_validator
from pydantic_core import from_json

from shared.bounds import INT_MAX, DatabaseId, StorableText
from shared.cells import owner_labels
from shared.events import Locale
from shared.fields import FieldType
from shared.selection import Selection

INTERNAL_PREFIX = "/internal/v1"


class TokenIntrospectionRequest(BaseModel):
    token: str


class TokenIntrospection(BaseModel):
    account_id: int
    token_id: int
    user_id: int | None = Field(None, description="The user the token was issued for, if any.")
    label: str | None = None


class Owner(BaseModel):
    id: int
    name: str
    email: str


class LifecycleStage(BaseModel):
    key: str
    name: str
    position: int


class CustomFieldDefinition(BaseModel):
    key: str
    label: str
    type: FieldType
    options: list[str] = Field(default_factory=list)
    required: bool = False


class AccountContext(BaseModel):
    account_id: int
    name: str
    locale: str = "pt-BR"
    timezone: str = "America/Sao_Paulo"
    owners: list[Owner]
    lifecycle_stages: list[LifecycleStage]
    custom_fields: list[CustomFieldDefinition]


class ContactRecord(BaseModel):
    """A contact as stored, with canonical values."""

    id: int
    account_id: int
    name: str
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    company: str | None = None
    job_title: str | None = None
    lifecycle_stage: str | None = None
    owner_id: int | None = None
    legal_entity: bool | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(slots=True)
class StreamedContact:
    """A ContactRecord of the selection stream, read without pydantic's validation: the
    same attributes, parsed from the stream's JSON line by pydantic-core's parser and
    taken as they are. The contacts service builds each line in PostgreSQL from typed
    columns; validating a million of them again cost the XLSX export ~8 µs a contact
    (docs/benchmarks.md, "Export service")."""

    id: int
    account_id: int
    name: str
    emails: list[str]
    phones: list[str]
    company: str | None
    job_title: str | None
    lifecycle_stage: str | None
    owner_id: int | None
    legal_entity: bool | None
    tags: list[str]
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def from_json(cls, line: bytes) -> StreamedContact:
        """ValueError for a line that is no contact (not JSON, a field missing, an id or
        a timestamp of the wrong type)."""
        try:
            data = from_json(line)
            contact = cls(
                data["id"],
                data["account_id"],
                data["name"],
                data["emails"] or [],
                data["phones"] or [],
                data["company"],
                data["job_title"],
                data["lifecycle_stage"],
                data["owner_id"],
                data["legal_entity"],
                data["tags"] or [],
                data["custom_fields"] or {},
                datetime.fromisoformat(data["created_at"]),
                datetime.fromisoformat(data["updated_at"]),
                data["version"],
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a contact: {error!r} in {line[:200]!r}") from None
        if not (
            contact.id.__class__ is int
            and contact.account_id.__class__ is int
            and contact.custom_fields.__class__ is dict
            and contact.emails.__class__ is contact.phones.__class__ is contact.tags.__class__ is list
            and contact.created_at.tzinfo is not None
            and contact.updated_at.tzinfo is not None
        ):
            raise ValueError(f"not a contact: {line[:200]!r}")
        return contact


class SelectionRequest(BaseModel):
    selection: Selection


class SelectionCount(BaseModel):
    count: int


class CsvColumn(BaseModel):
    """One column of a CSV rendition: the field it shows; the type says how its values
    are written (the field's own type, as the account context lists it)."""

    key: str = Field(description="A standard field key (shared/fields.py) or one of the account's custom field keys.")
    type: FieldType
    custom: bool = Field(False, description="True for a custom field (read from `custom_fields`).")


class CellRendition(BaseModel):
    """How a sheet shows contacts' cells: the export's rules for these columns, in a
    locale and a time zone, with the owner and stage labels the export uses."""

    columns: list[CsvColumn] = Field(min_length=1, description="The cells, in order.")
    locale: Locale = Field(description="Dates, decimal mark and yes/no words (SIM/NÃO or Yes/No).")
    timezone: str = Field(description="IANA zone that timestamps are shown in.", examples=["America/Sao_Paulo"])
    owner_labels: dict[int, str] = Field(
        default_factory=dict,
        description="Owner user id → what the owner cell shows; an owner not listed is shown as its id.",
    )
    stage_names: dict[str, str] = Field(
        default_factory=dict,
        description="Lifecycle stage key → what the stage cell shows; a key not listed is shown as it is.",
    )

    @classmethod
    def of_account(cls, context: AccountContext, columns: list[CsvColumn], locale: Locale) -> CellRendition:
        """The rendition that the export uses for this account's sheets."""
        return cls(
            columns=columns,
            locale=locale,
            timezone=context.timezone,
            owner_labels=owner_labels(context),
            stage_names={stage.key: stage.name for stage in context.lifecycle_stages},
        )


class SelectionCsvRequest(CellRendition):
    """What an export's CSV holds, decided by the export service; the contacts service
    renders every contact of `selection` by these rules, cell by cell exactly as the
    export's own CSV writer would (services/export/domain/csv_writer.py)."""

    selection: Selection
    delimiter: Literal[";", ","]


class ContactLookupRequest(BaseModel):
    ids: list[DatabaseId] = Field(default_factory=list, max_length=10_000)
    emails: list[StorableText] = Field(default_factory=list, max_length=10_000)
    cells: CellRendition | None = Field(
        None,
        description="When given, the answer's `cells` show each found contact's cells by these rules "
        "(the importer asks for them for a CSV, to recognise untouched rows by their text).",
    )
    with_contacts: bool = Field(
        True,
        description="False: the answer's `contacts` is empty, and the contacts found are the keys of "
        "`cells` (the importer first asks for the cells only, then for the contacts of the rows that "
        "differ from them). Only with `cells`.",
    )

    @model_validator(mode="after")
    def _contacts_or_cells(self) -> Self:
        if not self.with_contacts and self.cells is None:
            raise ValueError("'with_contacts': false needs 'cells' (the answer would say nothing of the ids)")
        return self


class ContactLookup(BaseModel):
    contacts: list[ContactRecord] = Field(description="Those of the given ids that exist in the account.")
    email_owners: dict[str, list[int]] = Field(
        default_factory=dict,
        description="Lower-cased email → ids of the account's contacts that hold it.",
    )
    cells: dict[int, tuple[str | None, ...]] = Field(
        default_factory=dict,
        description="Contact id → its cells as the request's `cells` rendition shows them, without formula "
        "escaping (a CSV reader undoes it); null for an empty cell.",
    )


class RowAction(StrEnum):
    UPDATE = "update"
    CREATE = "create"


class BulkApplyRow(BaseModel):
    row_number: int = Field(
        ge=1, le=INT_MAX, description="The spreadsheet row this change comes from (2 = first contact)."
    )
    action: RowAction
    contact_id: DatabaseId | None = Field(None, description="Required for `update`.")
    values: dict[str, Any] = Field(
        description="Field key → canonical value; only the batch's `fields` are read. "
        "Standard keys as in shared.fields, custom fields by their key. null clears."
    )
    expected_version: int | None = Field(None, description="Conflict if the contact's version differs.")
    expected_updated_at: datetime | None = Field(
        None,
        description="Conflict if the contact changed after this instant (compared to the second, "
        "as spreadsheets show it).",
    )


class BulkApplyRequest(BaseModel):
    idempotency_key: StorableText = Field(description="Import id and batch number, e.g. `<uuid>:7`.")
    import_id: StorableText | None = None
    requested_by: StorableText | None = None
    fields: list[str] = Field(description="The field keys this import writes.")
    tag: StorableText | None = Field(None, description="Added to every created or updated contact.")
    rows: list[BulkApplyRow] = Field(max_length=5_000)


class RowOutcomeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    FAILED = "failed"


class RowOutcome(BaseModel):
    row_number: int
    outcome: RowOutcomeKind
    contact_id: int | None = None
    changed_fields: list[str] = Field(default_factory=list)
    reason: str | None = None


class BulkApplyResult(BaseModel):
    idempotency_key: str
    replayed: bool = Field(description="True when this batch was applied before: these are the first outcomes.")
    outcomes: list[RowOutcome]
