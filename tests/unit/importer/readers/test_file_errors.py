from __future__ import annotations

import pytest

from services.importer.domain.file_errors import FILE_ERROR_CODES, FileRejected

REQUIRED = {
    "empty_file", "header_only", "no_header", "binary_file", "not_a_spreadsheet",
    "xls_is_html", "corrupt_file", "zip_bomb", "password_protected", "too_many_rows",
    "too_many_columns", "cell_too_long", "nul_bytes", "unbalanced_quotes",
    "invalid_encoding", "merged_cells", "sheet_not_found",
}  # fmt: skip


def test_every_required_code_exists() -> None:
    assert REQUIRED <= FILE_ERROR_CODES


@pytest.mark.parametrize("code", sorted(FILE_ERROR_CODES))
def test_messages_in_both_locales_name_the_place_and_fill_every_placeholder(code: str) -> None:
    error = FileRejected(code, row=12, column="C", detail="x", limit=500, sheets="“A”")
    pt_br, en = error.message("pt-BR"), error.message("en")
    assert pt_br.startswith("Linha 12, coluna C: ")
    assert en.startswith("Row 12, column C: ")
    assert "{" not in pt_br + en and pt_br != en


def test_missing_parameter_never_breaks_the_message() -> None:
    assert "?" in FileRejected("too_many_rows").message("en")


def test_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        FileRejected("nope")
