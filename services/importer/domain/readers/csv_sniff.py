"""Which separator a CSV uses, from a sample of its first lines."""

from __future__ import annotations

import csv
import io
from itertools import islice

# In order of preference when the sample cannot tell: pt-BR Excel and LibreOffice
# write ";" (the comma is the decimal mark), Excel's "Unicode text" writes tabs.
CANDIDATES = (";", "\t", ",", "|")
_RECORDS_SAMPLED = 50


def sniff_delimiter(sample: str) -> str:
    """The candidate that splits the header into most consistent columns.

    Counting is done by the csv module itself, so separators inside quotes do not count
    and quoted line breaks do not start records. A candidate must split the header in
    two or more; then the share of the next records with the header's field count
    decides (pt-BR data is full of commas: "1.234,56"), then the header's width.
    """
    best = CANDIDATES[0]
    best_score: tuple[float, int] = (0.0, 1)
    for delimiter in CANDIDATES:
        score = _score(sample, delimiter)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _score(sample: str, delimiter: str) -> tuple[float, int]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        widths = [len(record) for record in islice(reader, _RECORDS_SAMPLED) if record]
    except csv.Error:
        return (0.0, 0)
    if not widths or widths[0] < 2:
        return (0.0, 0)
    header, rest = widths[0], widths[1:]
    consistency = sum(width == header for width in rest) / len(rest) if rest else 1.0
    return (consistency, header)
