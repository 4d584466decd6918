"""Date ranges in the WHERE builder: a lower bound also bounds the id walk, with the
range's own parameters and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.contacts.domain.contact_filter import filter_where
from shared.selection import ContactFilter

JAN = datetime(2025, 1, 1, tzinfo=UTC)
FEB = datetime(2025, 2, 1, tzinfo=UTC)


def _id_bounds(sql_conditions: list[str]) -> list[str]:
    return [c for c in sql_conditions if c.startswith("id >= (SELECT")]


def test_a_created_range_bounds_the_walk_by_its_smallest_id() -> None:
    where = filter_where(4, ContactFilter(created_from=JAN, created_to=FEB), {}, "UTC")
    assert where.params == [4, JAN, FEB]
    assert where.conditions[:3] == ["account_id = $1", "created_at >= $2", "created_at <= $3"]
    # The nearest id to 0 in range, from the GiST index on (account_id, id, created_at).
    assert _id_bounds(where.conditions) == [
        "id >= (SELECT g.id FROM contacts AS g WHERE g.account_id = $1 AND g.created_at >= $2 "
        "AND g.created_at <= $3 ORDER BY g.id <-> 0::bigint LIMIT 1)"
    ]


def test_an_updated_range_looks_among_the_first_ids_then_in_the_index() -> None:
    where = filter_where(4, ContactFilter(updated_from=JAN), {}, "UTC")
    assert where.params == [4, JAN]
    (bound,) = _id_bounds(where.conditions)
    assert "h.account_id = $1 ORDER BY h.id LIMIT 1000) AS head WHERE head.updated_at >= $2)" in bound
    assert "(SELECT min(r.id + 0) FROM contacts AS r WHERE r.account_id = $1 AND r.updated_at >= $2)" in bound


def test_an_upper_bound_alone_adds_no_id_bound() -> None:
    where = filter_where(4, ContactFilter(created_to=FEB, updated_to=FEB), {}, "UTC")
    assert where.sql == "account_id = $1 AND created_at <= $2 AND updated_at <= $3"


def test_created_and_updated_each_bound_the_walk() -> None:
    where = filter_where(4, ContactFilter(created_from=JAN, updated_from=FEB, updated_to=FEB), {}, "UTC")
    assert where.params == [4, JAN, FEB, FEB]
    created, updated = _id_bounds(where.conditions)
    assert "g.created_at >= $2 ORDER BY" in created and "updated_at" not in created
    assert "head.updated_at >= $3 AND head.updated_at <= $4" in updated


def test_bare_dates_are_the_accounts_local_time() -> None:
    where = filter_where(4, ContactFilter(updated_from=datetime(2025, 1, 1)), {}, "America/Sao_Paulo")
    assert where.params[1] == datetime(2025, 1, 1, 3, tzinfo=UTC)


def test_bounds_outside_utcs_years_1_to_9999_are_clamped_to_the_nearer_end() -> None:
    """asyncpg sends instants in UTC and cannot send these (OverflowError, a 500 before)."""
    contact_filter = ContactFilter(
        created_from=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        updated_to=datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    )
    where = filter_where(4, contact_filter, {}, "America/Sao_Paulo")
    assert where.params[1:3] == [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]
