"""shared.cells.local_wall_time: an instant's local time in a zone, also within a day of
years 1 and 9999, where the instant's UTC is outside Python's range although its local
time may not be (datetime.astimezone raises OverflowError there)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.cells import local_wall_time, to_local

_offsets = st.integers(-(24 * 3600 - 1), 24 * 3600 - 1).map(lambda seconds: timezone(timedelta(seconds=seconds)))
# Anywhere, and more often within two days of either end, where astimezone overflows.
_instants = st.one_of(
    st.datetimes(timezones=_offsets),
    st.datetimes(max_value=datetime(1, 1, 2, 23, 59, 59), timezones=_offsets),
    st.datetimes(min_value=datetime(9999, 12, 30), timezones=_offsets),
)


def _expected(instant: datetime, zone: timezone) -> datetime | None:
    """The local time by counting seconds from year 1, without datetime's range."""
    wall = instant.replace(tzinfo=None, microsecond=0)
    own, target = instant.utcoffset(), zone.utcoffset(None)
    assert own is not None and target is not None
    seconds = (wall - datetime(1, 1, 1)).total_seconds() + (target - own).total_seconds()
    if not 0 <= seconds < (datetime(9999, 12, 31, 23, 59, 59) - datetime(1, 1, 1)).total_seconds() + 1:
        return None
    return datetime(1, 1, 1) + timedelta(seconds=seconds)


@given(_instants, _offsets)
def test_local_time_in_a_fixed_offset_anywhere_in_range(instant: datetime, zone: timezone) -> None:
    # Whole-second offsets: the instant's own microseconds are the only ones dropped.
    assert local_wall_time(instant, zone) == _expected(instant, zone)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_offsets))
def test_local_time_away_from_the_ends_is_astimezones(instant: datetime) -> None:
    zone = ZoneInfo("America/Sao_Paulo")
    assert local_wall_time(instant, zone) == instant.astimezone(zone).replace(tzinfo=None, microsecond=0)


@pytest.mark.parametrize(
    ("stored", "local"),
    [
        ("0001-01-01T00:00:00+00:00", None),  # 31/12/0000 in São Paulo
        ("0001-01-01T12:00:00+00:00", datetime(1, 1, 1, 8, 53, 32)),  # local mean time, -03:06:28
        ("0001-01-01T00:00:00+05:00", None),  # year 0 in UTC as well
        ("9999-12-31T23:59:59-01:00", datetime(9999, 12, 31, 21, 59, 59)),  # UTC is in year 10000
        ("9999-12-31T23:59:59.999999-02:00", datetime(9999, 12, 31, 22, 59, 59)),
        ("9999-12-31T23:59:59-05:00", None),  # 01/01/10000 in São Paulo
    ],
)
def test_local_time_in_a_named_zone_at_the_ends(stored: str, local: datetime | None) -> None:
    """The cells PostgreSQL writes for the same values in a CSV export
    (tests/integration/contacts/test_csv_rendition.py)."""
    assert local_wall_time(datetime.fromisoformat(stored), ZoneInfo("America/Sao_Paulo")) == local


def test_a_naive_instant_is_utc_and_to_local_says_what_is_out_of_range() -> None:
    assert local_wall_time(datetime(2024, 5, 1, 12, 0, 0, 500), ZoneInfo("America/Sao_Paulo")) == datetime(
        2024, 5, 1, 9, 0, 0
    )
    assert to_local(datetime(9999, 12, 31, 23, 0, tzinfo=UTC), "UTC") == datetime(9999, 12, 31, 23, 0)
    with pytest.raises(ValueError, match="0001-01-01T00:00:00\\+00:00 is outside years 1 to 9999 in America/Sao_Paulo"):
        to_local(datetime(1, 1, 1, tzinfo=UTC), "America/Sao_Paulo")
