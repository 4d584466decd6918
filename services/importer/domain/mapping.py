"""Which field each column of an uploaded sheet holds.

Suggestion order (the user confirms or changes it in "Finalizar importação"):
1. a mapping this account confirmed before for exactly these headers (`header_signature`);
2. the export's hidden field keys, when the sheet is one of our XLSX exports whose layout
   is intact (see `_metadata_is_intact`);
3. the headers: pt-BR labels, English labels, field keys, custom field labels, then a few
   aliases, each compared with `normalize_header` (case, accents, punctuation, spacing).
A field matched by two columns is taken from the first; the second is ignored, with a
`duplicate_column` warning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.importer.domain.feedback import FeedbackItem, feedback
from services.importer.domain.field_catalogue import AccountFields
from services.importer.domain.sheet import ExportMetadata, column_letter
from shared.fields import normalize_header

SIGNATURE_VERSION = "v1"

# Conservative: names a Brazilian user is likely to give a column, none of which could
# mean another standard field. Custom field labels take precedence over these.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id do contato", "id contato", "contact id", "codigo do contato"),
    "name": ("nome do contato", "nome completo", "full name", "contact name"),
    "emails": ("email", "emails", "e mails", "endereco de email", "endereco de e mail"),
    "phones": ("telefones", "phones", "phone number", "celular", "telefone celular", "mobile"),
    "company": ("nome da empresa", "company name", "organizacao", "organization"),
    "job_title": ("funcao", "title"),
    "lifecycle_stage": ("sessao", "ciclo de vida", "lifecycle", "stage", "etapa do ciclo de vida"),
    "owner": ("usuario responsavel", "proprietario"),
    "legal_entity": ("juridico sim nao", "pessoa juridica", "legal entity yes no"),
    "tags": ("tag", "etiquetas"),
    "created_at": ("data de criacao", "criado", "created"),
    "updated_at": (
        "data de atualizacao",
        "ultima atualizacao",
        "atualizado",
        "updated",
        "last updated",
    ),
}


class MatchSource(StrEnum):
    REMEMBERED = "remembered"
    EXPORT_METADATA = "export_metadata"
    LABEL = "label"
    KEY = "key"
    CUSTOM_LABEL = "custom_label"
    ALIAS = "alias"


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    index: int  # 0-based
    header: str
    letter: str
    field_key: str | None  # None: the column is ignored
    source: MatchSource | None


@dataclass(frozen=True, slots=True)
class SuggestedMapping:
    columns: tuple[ColumnMapping, ...]
    # Whose labels the headers are in: decides the ambiguous `1.234` (see number_parsing).
    sheet_locale: str
    feedback: tuple[FeedbackItem, ...]

    @property
    def fields_by_column(self) -> dict[int, str]:
        return {c.index: c.field_key for c in self.columns if c.field_key is not None}

    @property
    def ignored_columns(self) -> tuple[ColumnMapping, ...]:
        return tuple(c for c in self.columns if c.field_key is None)


@dataclass(frozen=True, slots=True)
class _HeaderMatch:
    key: str
    source: MatchSource
    locale: str | None  # set when the header is a label that differs between locales


class HeaderMatcher:
    def __init__(self, fields: AccountFields) -> None:
        index: dict[str, _HeaderMatch] = {}
        # Lowest precedence first: later entries overwrite earlier ones.
        for key, aliases in ALIASES.items():
            for alias in aliases:
                index[alias] = _HeaderMatch(key, MatchSource.ALIAS, None)
        for spec in fields.fields:
            if spec.custom:
                index[normalize_header(spec.label_pt_br)] = _HeaderMatch(spec.key, MatchSource.CUSTOM_LABEL, None)
        for spec in fields.fields:
            index[normalize_header(spec.key)] = _HeaderMatch(spec.key, MatchSource.KEY, None)
        for spec in fields.fields:
            if spec.custom:
                continue
            pt, en = normalize_header(spec.label_pt_br), normalize_header(spec.label_en)
            index[en] = _HeaderMatch(spec.key, MatchSource.LABEL, "en" if en != pt else None)
            index[pt] = _HeaderMatch(spec.key, MatchSource.LABEL, "pt-BR" if en != pt else None)
        self._index = index

    def match(self, header: str) -> _HeaderMatch | None:
        return self._index.get(normalize_header(header))


def suggest_mapping(
    headers: Sequence[str],
    fields: AccountFields,
    *,
    account_locale: str = "pt-BR",
    header_row_number: int = 1,
    with_letters: bool = True,
    export_metadata: ExportMetadata | None = None,
    remembered: Sequence[str | None] | None = None,
) -> SuggestedMapping:
    """The suggested field per column. `remembered` is a mapping confirmed before for
    headers with the same `header_signature`; `with_letters` is False for CSV."""
    matcher = HeaderMatcher(fields)
    matches = [matcher.match(h) for h in headers]
    keys: list[tuple[str | None, MatchSource | None]]
    if remembered is not None and len(remembered) == len(headers):
        keys = [(k if k in fields.by_key else None, MatchSource.REMEMBERED) for k in remembered]
    elif export_metadata is not None and _metadata_is_intact(export_metadata, matches):
        keys = [
            (k, MatchSource.EXPORT_METADATA) if k in fields.by_key else _key_of(m)
            for k, m in zip(export_metadata.field_keys, matches, strict=True)
        ]
    else:
        keys = [_key_of(m) for m in matches]

    columns: list[ColumnMapping] = []
    notes: list[FeedbackItem] = []
    first_column_of: dict[str, ColumnMapping] = {}
    for index, (header, (key, source)) in enumerate(zip(headers, keys, strict=True)):
        column = ColumnMapping(index, header, column_letter(index), key, source if key else None)
        if key is not None and key in first_column_of:
            first = first_column_of[key]
            notes.append(
                feedback(
                    "duplicate_column",
                    header_row_number,
                    column=column.letter if with_letters else None,
                    header=header,
                    field_key=key,
                    params={
                        "field": fields.by_key[key].label(account_locale),
                        "first_column": first.letter if with_letters else f'"{first.header}"',
                    },
                )
            )
            column = ColumnMapping(index, header, column.letter, None, None)
        elif key is not None:
            first_column_of[key] = column
        columns.append(column)
    return SuggestedMapping(tuple(columns), _sheet_locale(matches, account_locale), tuple(notes))


def _key_of(match: _HeaderMatch | None) -> tuple[str | None, MatchSource | None]:
    return (match.key, match.source) if match else (None, None)


def _metadata_is_intact(metadata: ExportMetadata, matches: Sequence[_HeaderMatch | None]) -> bool:
    """The export's keys are per column of the sheet as exported. They still hold when the
    sheet has as many columns and every header we recognise names the field the metadata
    gives for its position (a renamed header is fine: it matches nothing). An inserted,
    deleted or moved column breaks that, and then the headers alone decide."""
    if len(metadata.field_keys) != len(matches):
        return False
    return all(
        match is None or key is None or match.key == key
        for key, match in zip(metadata.field_keys, matches, strict=True)
    )


def _sheet_locale(matches: Sequence[_HeaderMatch | None], account_locale: str) -> str:
    votes = [m.locale for m in matches if m is not None and m.locale is not None]
    en, pt = votes.count("en"), votes.count("pt-BR")
    if en == pt:
        return account_locale
    return "en" if en > pt else "pt-BR"


def header_signature(headers: Sequence[str]) -> str:
    """A stable id of a header row (normalized, in order), under which a confirmed mapping
    is remembered per account."""
    text = "\n".join([SIGNATURE_VERSION, *(normalize_header(h) for h in headers)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def remembered_keys(columns: Mapping[int, str], column_count: int) -> list[str | None]:
    """A confirmed column → field mapping in the form `suggest_mapping(remembered=…)` takes."""
    return [columns.get(i) for i in range(column_count)]


def check_confirmed_mapping(
    columns: Mapping[int, str],
    headers: Sequence[str],
    fields: AccountFields,
    *,
    locale: str = "pt-BR",
    with_letters: bool = True,
) -> list[FeedbackItem]:
    """Errors in a confirmed mapping (the confirm request is refused if any)."""
    problems: list[FeedbackItem] = []
    columns_of: dict[str, list[int]] = {}
    for index, key in sorted(columns.items()):
        if not 0 <= index < len(headers):
            name = column_letter(index) if with_letters and index >= 0 else str(index + 1)
            problems.append(feedback("column_out_of_range", None, params={"column": name}))
        elif key not in fields.by_key:
            problems.append(feedback("unknown_field", None, header=headers[index], params={"field": key}))
        else:
            columns_of.setdefault(key, []).append(index)
    for key, indexes in columns_of.items():
        if len(indexes) > 1:
            names = [column_letter(i) if with_letters else f'"{headers[i]}"' for i in indexes]
            problems.append(
                feedback(
                    "field_mapped_twice",
                    None,
                    field_key=key,
                    params={"field": fields.by_key[key].label(locale), "columns": names},
                )
            )
    return problems
