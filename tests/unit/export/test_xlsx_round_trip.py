"""Property: any text a contact holds is read back unchanged from the XLSX, or the export
fails naming it when XML cannot hold one of its characters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.export.domain.errors import IllegalCharacterError
from services.export.domain.xlsx_cells import ILLEGAL_XML_CHARACTERS, escape_text
from shared.ooxml import decode_xstring

from .factories import make_contact
from .strategies import texts, xstring_like
from .xlsx_reading import calamine_rows, export_xlsx, openpyxl_rows


def cell_texts(row: tuple | list, width: int = 3) -> list[str]:
    """Read-only openpyxl leaves out trailing empty cells: rows are padded to `width`."""
    padded = list(row) + [None] * (width - len(row))
    return ["" if value is None else str(value) for value in padded]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=4))
def test_any_text_survives_xlsx_or_fails_clearly(values: list[tuple[str, str]]) -> None:
    contacts = [
        make_contact(id=i, name=name, custom_fields={"cpf": cpf}) for i, (name, cpf) in enumerate(values, start=1)
    ]
    illegal = [i for i, pair in enumerate(values, start=1) if any(map(ILLEGAL_XML_CHARACTERS.search, pair))]
    if illegal:
        with pytest.raises(IllegalCharacterError) as caught:
            export_xlsx(contacts, fields=["name", "cpf"])
        assert caught.value.contact_id == illegal[0]
        return

    data = export_xlsx(contacts, fields=["name", "cpf"])

    expected = [[str(i), name, cpf] for i, (name, cpf) in enumerate(values, start=1)]
    from_openpyxl = [[decode_xstring(v) for v in cell_texts(row)] for row in openpyxl_rows(data)[1:]]
    from_calamine = [cell_texts(row) for row in calamine_rows(data)[1:]]
    assert from_openpyxl == expected
    assert from_calamine == expected


@given(xstring_like)
def test_xstring_escaping_is_undone_by_decoding(text: str) -> None:
    escaped, _ = escape_text(text)
    assert decode_xstring(escaped) == text
