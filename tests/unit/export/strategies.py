"""Texts that have broken spreadsheet round trips somewhere: hypothesis draws from these."""

from __future__ import annotations

from hypothesis import strategies as st

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r", "'", "''", "'=", "'+"]

formula_like = st.builds(lambda start, rest: start + rest, st.sampled_from(FORMULA_STARTS), st.text(max_size=20))
digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=19)
leading_zeros = st.builds(lambda n, digits: "0" * n + digits, st.integers(1, 3), digit_strings)
xstring_like = st.text(alphabet="_x0123456789ABCDEFabcdef", max_size=30)
separators_and_breaks = st.text(alphabet=";,\"\r\n \t'=ãç", max_size=20)

# Any text a contact may hold (st.text() never draws unpaired surrogates).
texts = st.one_of(
    st.text(),
    formula_like,
    digit_strings,
    leading_zeros,
    xstring_like,
    separators_and_breaks,
)
