"""The contact fields as a spreadsheet shows them: keys, labels per locale, value types.

Export writes these headers and the importer matches headers back to these keys, so both
read them from here. Custom fields join the catalogue per account (see `custom_field`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class FieldType(StrEnum):
    """Value types of contact fields; custom field definitions use the same names."""

    ID = "id"
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"  # integer
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    SINGLE_SELECT = "single_select"
    MULTI_SELECT = "multi_select"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    # Standard-field-only types: resolved against the account's own lists.
    EMAIL_LIST = "email_list"
    PHONE_LIST = "phone_list"
    TAG_LIST = "tag_list"
    OWNER = "owner"
    LIFECYCLE_STAGE = "lifecycle_stage"


CUSTOM_FIELD_TYPES: frozenset[FieldType] = frozenset(
    {
        FieldType.TEXT,
        FieldType.LONG_TEXT,
        FieldType.NUMBER,
        FieldType.DECIMAL,
        FieldType.DATE,
        FieldType.DATETIME,
        FieldType.BOOLEAN,
        FieldType.SINGLE_SELECT,
        FieldType.MULTI_SELECT,
        FieldType.EMAIL,
        FieldType.PHONE,
        FieldType.URL,
    }
)

# The digits a decimal value may have, before and after the point: PostgreSQL numeric's,
# as the contacts service also keeps each decimal value as a number. The importer
# refuses a longer one at validation rather than have it fail at apply.
DECIMAL_INTEGER_DIGITS = 131_072
DECIMAL_FRACTION_DIGITS = 16_383


def decimal_fits(value: Decimal) -> bool:
    """Whether a finite decimal has no more digits than a decimal field holds, as
    plain notation writes it (a zero written `0E+9` is "0")."""
    integer_digits = value.adjusted() + 1 if value else 1
    fraction_digits = -value.as_tuple().exponent  # type: ignore[operator]  # finite: an int
    return integer_digits <= DECIMAL_INTEGER_DIGITS and fraction_digits <= DECIMAL_FRACTION_DIGITS


# Several values in one cell (emails, phones, tags, multi-select options) are joined with
# this; a comma never occurs in an email, a phone number or a tag/option name (the
# contacts service refuses commas in tag and option names).
MULTI_VALUE_SEPARATOR = ", "


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One column of the contacts spreadsheet."""

    key: str
    type: FieldType
    label_pt_br: str
    label_en: str
    writable: bool = True
    # The article's "never leave empty in an update" fields: an empty cell is a warning.
    recommended: bool = False
    required: bool = False
    options: tuple[str, ...] = ()
    custom: bool = False

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_pt_br


STANDARD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", FieldType.ID, "ID", "ID", writable=False, recommended=True),
    FieldSpec("name", FieldType.TEXT, "Nome", "Name", recommended=True, required=True),
    FieldSpec("emails", FieldType.EMAIL_LIST, "E-mail", "Email"),
    FieldSpec("phones", FieldType.PHONE_LIST, "Telefone", "Phone"),
    FieldSpec("company", FieldType.TEXT, "Empresa", "Company"),
    FieldSpec("job_title", FieldType.TEXT, "Cargo", "Job title"),
    FieldSpec(
        "lifecycle_stage",
        FieldType.LIFECYCLE_STAGE,
        "Sessão (Ciclo de vida)",
        "Lifecycle stage",
        recommended=True,
    ),
    FieldSpec("owner", FieldType.OWNER, "Responsável", "Owner", recommended=True),
    FieldSpec("legal_entity", FieldType.BOOLEAN, "Jurídico", "Legal entity", recommended=True),
    FieldSpec("tags", FieldType.TAG_LIST, "Tags", "Tags"),
    FieldSpec("created_at", FieldType.DATETIME, "Criado em", "Created at", writable=False),
    FieldSpec("updated_at", FieldType.DATETIME, "Atualizado em", "Updated at", writable=False),
)

STANDARD_FIELDS_BY_KEY: dict[str, FieldSpec] = {f.key: f for f in STANDARD_FIELDS}
RECOMMENDED_FIELD_KEYS: tuple[str, ...] = tuple(f.key for f in STANDARD_FIELDS if f.recommended)
RESERVED_KEYS: frozenset[str] = frozenset(STANDARD_FIELDS_BY_KEY) | {"custom_fields", "version"}


def custom_field(
    key: str,
    label: str,
    field_type: FieldType,
    options: tuple[str, ...] = (),
    required: bool = False,
) -> FieldSpec:
    """A custom field as a column: its label is the same in every locale."""
    if field_type not in CUSTOM_FIELD_TYPES:
        raise ValueError(f"{field_type} is not a custom field type")
    return FieldSpec(
        key=key,
        type=field_type,
        label_pt_br=label,
        label_en=label,
        options=options,
        required=required,
        custom=True,
    )


def normalize_header(text: str) -> str:
    """Folds a header for matching: case, accents, punctuation and spacing ignored.

    `Sessão (Ciclo de vida)`, `sessao ciclo de vida` and ` SESSÃO  (CICLO DE VIDA) `
    fold to the same string.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    no_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = "".join(c if c.isalnum() else " " for c in no_accents.casefold())
    return " ".join(words.split())
