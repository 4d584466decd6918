"""Which columns an export has, in which order, under which headers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.export.domain.errors import UnknownFieldsError
from shared.contacts_api import AccountContext
from shared.events import Locale
from shared.fields import STANDARD_FIELDS, FieldSpec, custom_field

ID_KEY = "id"


@dataclass(frozen=True, slots=True)
class ExportColumn:
    """One column of the exported sheet: the field it shows and its header."""

    field: FieldSpec
    header: str

    @property
    def key(self) -> str:
        return self.field.key


def normalize_locale(locale: str | None) -> Locale:
    """`pt-BR` unless `en` is asked for; an unsupported locale is a ValueError (the
    event schema already refuses it, so reaching this is a bug upstream)."""
    return Locale(locale) if locale else Locale.PT_BR


def available_fields(context: AccountContext) -> tuple[FieldSpec, ...]:
    """Every field an export of this account can show: standard ones, then the account's
    custom fields in the order the account lists them."""
    customs = tuple(custom_field(d.key, d.label, d.type, tuple(d.options), d.required) for d in context.custom_fields)
    return STANDARD_FIELDS + customs


def build_columns(
    context: AccountContext,
    locale: str | None = None,
    fields: Sequence[str] | None = None,
) -> tuple[ExportColumn, ...]:
    """The export's columns.

    Without `fields`: ID, the standard fields, then every custom field. With `fields`:
    those keys in that order, with ID put first when it is missing, because the importer
    keys every update on ID and a sheet without it could only create duplicates. A key
    given twice keeps its first place. A key that the account does not know raises
    `UnknownFieldsError` naming every such key.
    """
    language = normalize_locale(locale)
    catalogue = available_fields(context)
    if fields is None:
        chosen = catalogue
    else:
        by_key = {spec.key: spec for spec in catalogue}
        unknown = [key for key in dict.fromkeys(fields) if key not in by_key]
        if unknown:
            raise UnknownFieldsError(unknown)
        ordered_keys = list(dict.fromkeys(fields))
        if ID_KEY in ordered_keys:
            ordered_keys.remove(ID_KEY)
        chosen = tuple(by_key[key] for key in [ID_KEY, *ordered_keys])
    return tuple(ExportColumn(field=spec, header=spec.label(language)) for spec in chosen)
