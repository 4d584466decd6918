"""Why an uploaded file cannot be read, said so that the user knows what to do.

Readers raise `FileRejected` and nothing else for a bad file: the import job fails with
its `code` (stable, part of the feedback contract) and `message(locale)`.
Rows and columns are the ones the spreadsheet program shows (row 1 is the first line;
column letters for XLSX/XLS, the header text or the column number for CSV).
"""

from __future__ import annotations

from collections.abc import Mapping

from services.importer.domain.sheet import without_nul

# code → (pt-BR, en). Placeholders come from `FileRejected.details`; every message says
# what is wrong and what to do about it.
_MESSAGES: Mapping[str, tuple[str, str]] = {
    "empty_file": (
        "O arquivo está vazio. Exporte os contatos novamente ou salve a planilha com dados.",
        "The file is empty. Export the contacts again or save the sheet with its data.",
    ),
    "header_only": (
        "A planilha só tem a linha de cabeçalho, sem nenhum contato. Preencha ao menos uma linha abaixo do cabeçalho.",
        "The sheet has only the header row and no contact. Fill in at least one row below the header.",
    ),
    "no_header": (
        "A primeira linha da planilha está vazia: ela deve conter os nomes das colunas "
        "(ID, Nome, …). Apague as linhas vazias do início e importe de novo.",
        "The first row of the sheet is empty: it must hold the column names (ID, Name, …). "
        "Delete the empty rows at the top and import again.",
    ),
    "binary_file": (
        "O arquivo não é uma planilha nem um texto CSV (conteúdo binário). "
        "Envie o arquivo XLSX ou CSV exportado, ou salve a planilha como XLSX.",
        "The file is neither a spreadsheet nor CSV text (binary content). "
        "Upload the exported XLSX or CSV file, or save the sheet as XLSX.",
    ),
    "not_a_spreadsheet": (
        "O arquivo não é uma planilha reconhecida ({detail}). Abra-o no Excel ou LibreOffice e salve como XLSX ou CSV.",
        "The file is not a recognised spreadsheet ({detail}). "
        "Open it in Excel or LibreOffice and save it as XLSX or CSV.",
    ),
    "xls_is_html": (
        "Este arquivo .xls é na verdade uma página web (HTML/XML), não uma planilha Excel. "
        "Abra-o no Excel ou LibreOffice e use “Salvar como” > Pasta de Trabalho do Excel "
        "(.xlsx).",
        "This .xls file is really a web page (HTML/XML), not an Excel workbook. "
        "Open it in Excel or LibreOffice and use “Save as” > Excel Workbook (.xlsx).",
    ),
    "corrupt_file": (
        "A planilha está corrompida ou incompleta ({detail}). "
        "Abra-a no Excel ou LibreOffice, salve novamente como XLSX e importe de novo.",
        "The spreadsheet is corrupt or incomplete ({detail}). "
        "Open it in Excel or LibreOffice, save it again as XLSX and import it again.",
    ),
    "zip_bomb": (
        "A planilha descompactada seria grande demais ({detail}) e foi recusada por "
        "segurança. Salve somente os contatos a importar, ou divida o arquivo.",
        "The spreadsheet would be far too large once decompressed ({detail}) and was "
        "refused for safety. Save only the contacts to import, or split the file.",
    ),
    "password_protected": (
        "A planilha está protegida por senha. Abra-a, remova a senha "
        "(Arquivo > Informações > Proteger pasta de trabalho) e salve novamente.",
        "The spreadsheet is password-protected. Open it, remove the password "
        "(File > Info > Protect Workbook) and save it again.",
    ),
    "too_many_rows": (
        "A planilha tem mais de {limit} linhas de contatos. Divida-a em arquivos menores.",
        "The sheet has more than {limit} contact rows. Split it into smaller files.",
    ),
    "too_many_columns": (
        "A planilha tem mais de {limit} colunas. Apague as colunas que não serão importadas e importe de novo.",
        "The sheet has more than {limit} columns. Delete the columns you do not import and import again.",
    ),
    "cell_too_long": (
        "Uma célula tem mais de {limit} caracteres, o máximo de uma célula do Excel. "
        "Encurte o texto (se a célula começa com aspas, confira se elas se fecham).",
        "A cell holds more than {limit} characters, the most an Excel cell can hold. "
        "Shorten the text (if the cell starts with a quote, check that it is closed).",
    ),
    "nul_bytes": (
        "O arquivo contém caracteres nulos (NUL), que não existem em um CSV de texto. "
        "Abra-o no Excel ou LibreOffice e salve como CSV UTF-8 ou XLSX.",
        "The file contains NUL characters, which a text CSV never holds. "
        "Open it in Excel or LibreOffice and save it as CSV UTF-8 or XLSX.",
    ),
    "unbalanced_quotes": (
        "Aspas abertas nesta linha não se fecham corretamente. Feche as aspas da célula "
        '(aspas dentro do texto devem ser dobradas: "") e importe de novo.',
        "A quote opened on this row is not closed properly. Close the cell's quotes "
        '(quotes inside the text must be doubled: "") and import again.',
    ),
    "invalid_encoding": (
        "O texto do arquivo não está em uma codificação válida ({detail}). "
        "Salve como “CSV UTF-8 (delimitado por vírgulas)” ou como XLSX.",
        "The file's text is not in a valid encoding ({detail}). Save it as “CSV UTF-8 (Comma delimited)” or as XLSX.",
    ),
    "merged_cells": (
        "A planilha tem células mescladas ({detail}). Desfaça a mesclagem (Página Inicial > "
        "Mesclar e Centralizar) para que cada contato ocupe uma linha, e importe de novo.",
        "The sheet has merged cells ({detail}). Unmerge them (Home > Merge & Center) so "
        "that each contact takes one row, and import again.",
    ),
    "file_too_large": (
        "O arquivo {kind} tem mais de {limit_mb} MB, o máximo aceito neste formato. "
        "Salve a planilha como XLSX ou CSV, ou divida-a.",
        "The {kind} file is over {limit_mb} MB, the most accepted in this format. "
        "Save the sheet as XLSX or CSV, or split it.",
    ),
    "sheet_not_found": (
        "A aba “{detail}” não existe no arquivo. Abas disponíveis: {sheets}.",
        "The file has no sheet named “{detail}”. Sheets available: {sheets}.",
    ),
}

FILE_ERROR_CODES: frozenset[str] = frozenset(_MESSAGES)


class _Placeholders(dict[str, object]):
    # A missing parameter must never turn an error message into a KeyError.
    def __missing__(self, key: str) -> str:
        return "?"


class FileRejected(Exception):
    """The file cannot be imported; nothing was read from it into the system."""

    def __init__(
        self,
        code: str,
        *,
        row: int | None = None,
        column: str | None = None,
        detail: str = "",
        **params: object,
    ) -> None:
        if code not in _MESSAGES:
            raise ValueError(f"unknown file error code {code!r}")
        self.code = code
        self.row = row
        self.column = column
        self.detail = detail
        self.params = params
        super().__init__(code)

    def __str__(self) -> str:
        return self.message("en")

    def message(self, locale: str = "pt-BR") -> str:
        pt_br, en = _MESSAGES[self.code]
        template = en if locale == "en" else pt_br
        text = template.format_map(_Placeholders(detail=self.detail, **self.params))
        # Stored as the failed import's message: a NUL the details quote (a sheet name
        # as the form sent it) would fail that write.
        return without_nul(self._where(locale) + text)

    def _where(self, locale: str) -> str:
        english = locale == "en"
        parts = []
        if self.row is not None:
            parts.append(f"{'Row' if english else 'Linha'} {self.row}")
        if self.column is not None:
            parts.append(f"{'column' if english else 'coluna'} {self.column}")
        return ", ".join(parts) + ": " if parts else ""

    def __repr__(self) -> str:
        return f"FileRejected({self.code!r}, row={self.row!r}, column={self.column!r})"
