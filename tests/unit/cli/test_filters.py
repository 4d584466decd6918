"""Filter options → the list API's query and the export's selection."""

from __future__ import annotations

import pytest

from cli.exit_codes import ExitCode, UsageProblem
from cli.filters import FilterOptions, list_query, parse_custom, parse_ids, parse_moment, selection, split_values


def test_list_options_accept_repeats_and_commas():
    assert split_values(["lead, cliente", "oportunidade", " "]) == ["lead", "cliente", "oportunidade"]
    assert parse_ids(["1,2", "30"], "--ids") == [1, 2, 30]


def test_an_id_that_is_not_a_number_is_a_usage_problem():
    with pytest.raises(UsageProblem) as refused:
        parse_ids(["12,abc"], "--ids")
    assert refused.value.exit_code is ExitCode.USAGE
    assert refused.value.params == {"option": "--ids", "value": "abc"}


def test_custom_conditions_are_key_equals_value():
    assert parse_custom(["segmento=Varejo", "vip=", "site=https://a.b/?x=1"]) == {
        "segmento": "Varejo", "vip": "", "site": "https://a.b/?x=1"
    }
    with pytest.raises(UsageProblem):
        parse_custom(["segmento"])


@pytest.mark.parametrize(
    ("typed", "end_of_day", "expected"),
    [
        ("31/01/2026", False, "2026-01-31T00:00:00"),
        ("31/01/2026", True, "2026-01-31T23:59:59.999999"),
        ("2026-01-31", True, "2026-01-31T23:59:59.999999"),
        ("2026-01-31T10:00:00-03:00", True, "2026-01-31T10:00:00-03:00"),
        ("", False, None),
    ],
)
def test_dates_as_brazilians_type_them_become_iso(typed, end_of_day, expected):
    assert parse_moment(typed, "--created-to", end_of_day) == expected


def test_an_impossible_date_is_refused():
    with pytest.raises(UsageProblem):
        parse_moment("31/02/2026", "--created-from")


def test_the_list_query_and_the_selection_hold_the_same_conditions():
    chosen = FilterOptions(q=" silva ", owner_ids=[3, 4], tags=["vip"], legal_entity=False,
                           custom={"segmento": "Varejo"})
    assert list_query(chosen) == [
        ("q", "silva"), ("owner_ids", "3,4"), ("tags", "vip"), ("legal_entity", "false"),
        ("custom.segmento", "Varejo"),
    ]
    assert selection(chosen, [], False, [7]) == {
        "filter": {"q": "silva", "owner_ids": [3, 4], "tags": ["vip"], "legal_entity": False,
                   "custom": {"segmento": "Varejo"}},
        "exclude_ids": [7],
    }


def test_selection_is_exactly_one_of_ids_all_or_filter():
    nothing = FilterOptions()
    assert selection(nothing, [1, 2], False, []) == {"ids": [1, 2]}
    assert selection(nothing, [], True, [5]) == {"all": True, "exclude_ids": [5]}
    for ids, select_all, chosen in (([], False, nothing), ([1], True, nothing), ([], True, FilterOptions(q="x"))):
        with pytest.raises(UsageProblem):
            selection(chosen, ids, select_all, [])
    with pytest.raises(UsageProblem) as refused:
        selection(nothing, [1], False, [2])
    assert refused.value.message_key == "exclude_with_ids"
