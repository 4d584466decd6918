"""The fields one account's sheet can hold: the standard fields plus its custom fields.

Built once per import from the account context; mapping, parsing and validation look
fields up here by key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from shared.contacts_api import AccountContext, ContactRecord
from shared.fields import STANDARD_FIELDS, FieldSpec, custom_field

# Standard field key → ContactRecord attribute, where they differ.
_RECORD_ATTRIBUTE = {"owner": "owner_id"}


@dataclass(frozen=True, slots=True)
class AccountFields:
    fields: tuple[FieldSpec, ...]
    by_key: dict[str, FieldSpec]

    @classmethod
    def from_account(cls, account: AccountContext) -> AccountFields:
        custom = tuple(
            custom_field(d.key, d.label, d.type, tuple(d.options), d.required) for d in account.custom_fields
        )
        fields = STANDARD_FIELDS + custom
        return cls(fields=fields, by_key={f.key: f for f in fields})

    def get(self, key: str) -> FieldSpec | None:
        return self.by_key.get(key)


def current_value(contact: ContactRecord, spec: FieldSpec) -> object:
    """The contact's stored (canonical) value of a field; None when a custom field is unset."""
    if spec.custom:
        return contact.custom_fields.get(spec.key)
    return getattr(contact, _RECORD_ATTRIBUTE.get(spec.key, spec.key))


def current_value_reader(spec: FieldSpec) -> Callable[[ContactRecord], object]:
    """`current_value` for one field, resolved once (validation calls it per cell)."""
    if spec.custom:
        key = spec.key
        return lambda contact: contact.custom_fields.get(key)
    return attrgetter(_RECORD_ATTRIBUTE.get(spec.key, spec.key))
