"""Text escaping of the Office Open XML spreadsheet format that both the export's writer
and the importer's reader must agree on."""

from __future__ import annotations

import re

# ST_Xstring: a character XML cannot carry is written `_xHHHH_`, so a literal `_xHHHH_`
# in the text is itself escaped by writing its underscore as `_x005F_`.
_XSTRING_UNDERSCORE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
_XSTRING_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def encode_xstring_underscores(text: str) -> str:
    """Protects literal `_xHHHH_` sequences so that a reader decodes them back to themselves."""
    return _XSTRING_UNDERSCORE.sub("_x005F_", text)


def decode_xstring(text: str) -> str:
    """Undoes ST_Xstring escaping (`_xHHHH_` → U+HHHH), for readers that do not, such as
    openpyxl on inline strings; calamine, Excel and LibreOffice decode it themselves."""
    if "_x" not in text:
        return text
    return _XSTRING_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
