"""The hostile corpus (tests/corpus/build_hostile.py): every file ends in its code, or
reads, within 20 s and with Python allocations peaking under 200 MB."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from readers_testkit import corpus

from services.importer.domain.file_errors import FileRejected
from services.importer.domain.readers import open_sheet

MEMORY_BOUND = 200 * 1024 * 1024


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", list(corpus.CASES))
def test_hostile_file_ends_in_its_code_in_bounded_time_and_memory(tmp_path: Path, name: str) -> None:
    hostile = corpus.build(name, tmp_path)
    tracemalloc.start()
    try:
        try:
            with open_sheet(hostile.path) as reader:
                rows = reader.count_rows()
            outcome = None
        except FileRejected as error:
            outcome = error.code
            assert error.message("pt-BR") and error.message("en")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome == hostile.expected_code
    if outcome is None:
        assert rows >= 1
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.0f} MiB"


def test_xxe_never_reads_the_referenced_file(tmp_path: Path) -> None:
    hostile = corpus.build("xxe", tmp_path)
    with pytest.raises(FileRejected) as caught:
        open_sheet(hostile.path)
    assert "root:" not in caught.value.message("en")


def test_invalid_utf8_is_reported_at_its_row(tmp_path: Path) -> None:
    hostile = corpus.build("csv_invalid_utf8", tmp_path)
    with pytest.raises(FileRejected) as caught, open_sheet(hostile.path) as reader:
        list(reader.rows())
    assert (caught.value.code, caught.value.row) == ("invalid_encoding", 3002)


def test_formulas_without_cached_values_are_per_cell(tmp_path: Path) -> None:
    hostile = corpus.build("formulas_everywhere", tmp_path)
    with open_sheet(hostile.path) as reader:
        first = next(iter(reader.rows()))
    assert first.row_number == 2
    assert first.cells[0].formula == "=ROW()*0"  # type: ignore[union-attr]
