"""The demo's contacts were created over three years, oldest first, and about half of
them edited since: date filters meet rows as in an account in use."""

from __future__ import annotations

from datetime import UTC, datetime

from services.contacts.domain.demo_data import COLUMNS, DEMO_HISTORY, DemoContactGenerator

UNTIL = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _dates(rows: list[tuple[object, ...]]) -> list[tuple[datetime, datetime]]:
    created, updated = COLUMNS.index("created_at"), COLUMNS.index("updated_at")
    return [(row[created], row[updated]) for row in rows]  # type: ignore[misc]


def test_created_at_grows_with_the_row_over_the_whole_history() -> None:
    dates = _dates(DemoContactGenerator(1, [1], ["lead"], seed=5, until=UNTIL, total=3000).rows(3000))
    created = [c for c, _ in dates]
    assert created == sorted(created) and len(set(created)) == len(created)
    assert UNTIL - DEMO_HISTORY <= created[0] < UNTIL - DEMO_HISTORY * 0.99
    assert UNTIL - DEMO_HISTORY * 0.01 < created[-1] <= UNTIL


def test_about_half_were_edited_after_they_were_created() -> None:
    dates = _dates(DemoContactGenerator(1, [1], ["lead"], seed=5, until=UNTIL, total=4000).rows(4000))
    assert all(c <= u <= UNTIL for c, u in dates)
    edited = sum(u > c for c, u in dates)
    assert 0.45 < edited / len(dates) < 0.65


def test_more_rows_than_announced_stay_in_the_past() -> None:
    dates = _dates(DemoContactGenerator(1, [1], ["lead"], seed=5, until=UNTIL, total=10).rows(50))
    assert all(c <= UNTIL and u <= UNTIL for c, u in dates)


def test_same_seed_and_moment_same_contacts() -> None:
    first = DemoContactGenerator(1, [1, 2], ["lead"], seed=9, until=UNTIL, total=500).rows(500)
    assert first == DemoContactGenerator(1, [1, 2], ["lead"], seed=9, until=UNTIL, total=500).rows(500)
