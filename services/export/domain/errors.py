"""Why an export cannot be built, as the `export.failed` event tells it.

Each error carries a stable `code` (the event's `code`) and a message a user understands,
in pt-BR and en, so that the service publishes it in the export's locale with no lookup
table of its own.
"""

from __future__ import annotations

from collections.abc import Iterable


class ExportError(Exception):
    """Base of every export failure the domain detects; never a bug, always a user fact."""

    code: str = "export_failed"

    def __init__(self, message_pt_br: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_pt_br = message_pt_br
        self.message_en = message_en

    def message(self, locale: str) -> str:
        return self.message_en if locale == "en" else self.message_pt_br


class UnknownFieldsError(ExportError):
    """`fields` names keys that are neither standard fields nor the account's custom ones."""

    code = "unknown_fields"

    def __init__(self, unknown_keys: Iterable[str]) -> None:
        self.unknown_keys: tuple[str, ...] = tuple(unknown_keys)
        listed = ", ".join(repr(key) for key in self.unknown_keys)
        super().__init__(
            f"Campos desconhecidos nesta conta: {listed}.",
            f"Unknown fields for this account: {listed}.",
        )


class XlsxTooManyRowsError(ExportError):
    """An XLSX sheet holds 1,048,576 rows: the header and at most 1,048,575 contacts."""

    code = "xlsx_too_many_rows"

    def __init__(self, contact_count: int, limit: int) -> None:
        self.contact_count = contact_count
        self.limit = limit
        super().__init__(
            f"A seleção tem {_pt_br_int(contact_count)} contatos e uma planilha XLSX comporta "
            f"no máximo {_pt_br_int(limit)}. Exporte em CSV, ou selecione menos contatos.",
            f"The selection holds {contact_count:,} contacts and an XLSX sheet holds at most "
            f"{limit:,}. Export as CSV, or select fewer contacts.",
        )


class XlsxTooLargeError(ExportError):
    """The sheet outgrew what a ZIP entry without ZIP64 holds (see docs/export-format.md)."""

    code = "xlsx_too_large"

    def __init__(self, rows_written: int) -> None:
        self.rows_written = rows_written
        super().__init__(
            f"A planilha passou do tamanho máximo de um arquivo XLSX após {rows_written} "
            "contatos. Exporte em CSV, ou selecione menos contatos ou campos.",
            f"The sheet outgrew the largest XLSX file after {rows_written} contacts. "
            "Export as CSV, or select fewer contacts or fields.",
        )


class CellValueError(ExportError):
    """One value of one contact cannot be stored in the file; names the contact and the
    column so that the user can fix that contact and export again."""

    code = "invalid_cell_value"

    def __init__(self, contact_id: int | str, field_key: str, header: str, problem_pt_br: str, problem_en: str) -> None:
        self.contact_id = contact_id
        self.field_key = field_key
        self.header = header
        super().__init__(
            f"O contato de ID {contact_id}, coluna “{header}”: {problem_pt_br}",
            f"Contact ID {contact_id}, column “{header}”: {problem_en}",
        )


class IllegalCharacterError(CellValueError):
    """A control character (or an unpaired surrogate) that the file format cannot hold."""

    code = "illegal_character"

    def __init__(self, contact_id: int | str, field_key: str, header: str, character: str) -> None:
        self.character = character
        codepoint = f"U+{ord(character):04X}"
        super().__init__(
            contact_id,
            field_key,
            header,
            f"o valor contém o caractere de controle {codepoint}, que o arquivo não pode "
            "guardar. Remova-o do contato e exporte de novo.",
            f"the value holds the control character {codepoint}, which the file cannot "
            "store. Remove it from the contact and export again.",
        )


class CellTooLongError(CellValueError):
    """Excel keeps at most 32,767 characters in a cell; a longer value would be cut."""

    code = "cell_too_long"

    def __init__(self, contact_id: int | str, field_key: str, header: str, length: int, limit: int) -> None:
        self.length = length
        self.limit = limit
        super().__init__(
            contact_id,
            field_key,
            header,
            f"o valor tem {length} caracteres e uma célula XLSX comporta no máximo {limit}. "
            "Exporte em CSV, ou encurte o valor.",
            f"the value has {length} characters and an XLSX cell holds at most {limit}. "
            "Export as CSV, or shorten the value.",
        )


def _pt_br_int(number: int) -> str:
    """1048575 → 1.048.575, as a Brazilian reader groups digits."""
    return f"{number:,}".replace(",", ".")
