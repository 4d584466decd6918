from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.importer.domain.date_parsing import (
    _datetime_from_text,
    _exported_datetime,
    canonical_datetime,
    parse_date,
    parse_datetime,
)
from services.importer.domain.parse_problem import ParseProblem

TZ = "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("31/12/2024", date(2024, 12, 31)),
        ("1/2/2024", date(2024, 2, 1)),  # day first, always
        ("01-02-2024", date(2024, 2, 1)),
        ("01.02.2024", date(2024, 2, 1)),
        ("2024-02-01", date(2024, 2, 1)),
        ("2024/02/01", date(2024, 2, 1)),
        ("01/02/2024 00:00:00", date(2024, 2, 1)),  # LibreOffice writes a date cell so
        ("2024-02-01T00:00", date(2024, 2, 1)),
        (datetime(2024, 2, 1), date(2024, 2, 1)),
        (date(2024, 2, 1), date(2024, 2, 1)),
        (45323, date(2024, 2, 1)),  # Excel serial
        (45323.0, date(2024, 2, 1)),
        (61, date(1900, 3, 1)),
    ],
)
def test_date_reads(cell: object, expected: date) -> None:
    assert parse_date(cell) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("31/02/2024", "invalid_date"),
        ("2024-13-01", "invalid_date"),
        ("amanhã", "invalid_date"),
        ("01/02/24", "date_two_digit_year"),
        ("01/02/2024 10:30", "date_has_time"),
        (datetime(2024, 2, 1, 10, 30), "date_has_time"),
        (45323.5, "date_has_time"),
        (0, "invalid_date"),
        (time(10, 0), "invalid_date"),
        (True, "invalid_date"),
    ],
)
def test_date_refuses(cell: object, code: str) -> None:
    problem = parse_date(cell)  # type: ignore[arg-type]
    assert isinstance(problem, ParseProblem) and problem.code == code


def _sp(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone(timedelta(hours=-3)))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("31/12/2024 18:30:05", _sp(2024, 12, 31, 18, 30, 5)),
        ("31/12/2024 18:30", _sp(2024, 12, 31, 18, 30)),
        ("1/2/2024 8:05", _sp(2024, 2, 1, 8, 5)),
        ("31/12/2024", _sp(2024, 12, 31)),
        ("2024-12-31 18:30:05", _sp(2024, 12, 31, 18, 30, 5)),
        ("2024-12-31T18:30:05", _sp(2024, 12, 31, 18, 30, 5)),
        ("2024-12-31T21:30:05Z", _sp(2024, 12, 31, 18, 30, 5)),
        ("2024-12-31T18:30:05-03:00", _sp(2024, 12, 31, 18, 30, 5)),
        ("31/12/2024 18:30:05,999", _sp(2024, 12, 31, 18, 30, 5)),  # to the second
        (datetime(2024, 12, 31, 18, 30, 5), _sp(2024, 12, 31, 18, 30, 5)),
        (date(2024, 12, 31), _sp(2024, 12, 31)),
        (45657.75, _sp(2024, 12, 31, 18, 0)),  # Excel serial with a time
    ],
)
def test_datetime_reads_naive_values_in_the_account_zone(cell: object, expected: datetime) -> None:
    parsed = parse_datetime(cell, TZ)  # type: ignore[arg-type]
    assert isinstance(parsed, datetime)
    assert parsed == expected


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("31/12/2024 25:00", "invalid_datetime"),
        ("ontem", "invalid_datetime"),
        ("31/12/24 10:00", "date_two_digit_year"),
        (True, "invalid_datetime"),
    ],
)
def test_datetime_refuses(cell: object, code: str) -> None:
    problem = parse_datetime(cell, TZ)  # type: ignore[arg-type]
    assert isinstance(problem, ParseProblem) and problem.code == code


def test_canonical_datetime_is_iso_with_the_account_offset() -> None:
    moment = datetime(2024, 12, 31, 21, 30, 5, 700, tzinfo=UTC)
    assert canonical_datetime(moment, TZ) == "2024-12-31T18:30:05-03:00"


@settings(max_examples=300)
@given(
    st.tuples(st.integers(0, 40), st.integers(0, 14), st.integers(0, 9999), st.integers(0, 25), st.integers(0, 61)),
    st.booleans(),
    st.sampled_from(["", "", "", "", "\n", " ", "T", ",5"]),
    st.sampled_from(["", "", "3", "٣"]),  # a digit replaced by another, or by one of another script
)
def test_the_exported_shapes_read_as_the_general_reading_reads_them(
    numbers: tuple[int, ...], day_first: bool, tail: str, other_digit: str
) -> None:
    """The export's date-times are read first by a quicker match: it reads what the
    general reading reads, and leaves the rest (out of range, other digits) to it."""
    day, month, year, hour, minute = numbers
    date_text = f"{day:02d}/{month:02d}/{year:04d}" if day_first else f"{year:04d}-{month:02d}-{day:02d}"
    text = f"{date_text} {hour:02d}:{minute:02d}:{minute:02d}{tail}"
    if other_digit:
        text = text.replace("0", other_digit, 1)
    exported = _exported_datetime(text)
    if exported is not None:
        assert exported == _datetime_from_text(text)
        assert (exported.tzinfo, exported.fold) == (None, 0)


def test_the_exported_shapes_are_read_by_the_quicker_match() -> None:
    assert _exported_datetime("31/12/2024 18:30:05") == datetime(2024, 12, 31, 18, 30, 5)
    assert _exported_datetime("2024-12-31 18:30:05") == datetime(2024, 12, 31, 18, 30, 5)
    assert _exported_datetime("31/12/2024 18:30") is None
