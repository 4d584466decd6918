"""A compact record of every judged row, for what can only be known at the end of the file.

The same ID on two rows is an error on both, but the first may have been judged many
batches earlier. Keeping a dict of ids costs ~120 MB per million rows; these arrays cost
~25 bytes a row, and duplicates are found by one sort at the end.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from services.importer.domain.row_judgement import RowOutcome

_OUTCOMES = list(RowOutcome)
_OUTCOME_CODES = {outcome: code for code, outcome in enumerate(_OUTCOMES)}
_UNCHANGED_CODE = _OUTCOME_CODES[RowOutcome.UNCHANGED]
_NO_ID = 0


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    position: int
    row_number: int
    contact_id: int
    outcome: RowOutcome
    changed_field_indexes: tuple[int, ...]


class RowLedger:
    def __init__(self) -> None:
        self._row_numbers = array("q")
        self._ids = array("q")
        self._outcomes = array("b")
        self._changed_masks = array("Q")
        self._wide_masks: dict[int, int] = {}  # rows that changed a field past the 64th

    def record(
        self,
        row_number: int,
        contact_id: int | None,
        outcome: RowOutcome,
        changed_field_indexes: Iterable[int],
    ) -> None:
        mask = 0
        for index in changed_field_indexes:
            mask |= 1 << index
        position = len(self._row_numbers)
        self._row_numbers.append(row_number)
        self._ids.append(contact_id or _NO_ID)
        self._outcomes.append(_OUTCOME_CODES[outcome])
        if mask >> 64:
            self._wide_masks[position] = mask
            mask = 0
        self._changed_masks.append(mask)

    def record_unchanged(self, row_number: int, contact_id: int) -> None:
        """`record(row_number, contact_id, RowOutcome.UNCHANGED, ())`, for the rows that
        make up most of a round trip."""
        self._row_numbers.append(row_number)
        self._ids.append(contact_id)
        self._outcomes.append(_UNCHANGED_CODE)
        self._changed_masks.append(0)

    def __len__(self) -> int:
        return len(self._row_numbers)

    def duplicate_id_groups(self) -> Iterator[list[LedgerEntry]]:
        """Rows that share an ID, grouped, in file order within each group."""
        sorted_ids = sorted(i for i in self._ids if i != _NO_ID)
        repeated = {a for a, b in pairwise(sorted_ids) if a == b}
        del sorted_ids
        if not repeated:
            return
        groups: dict[int, list[LedgerEntry]] = {}
        for position, contact_id in enumerate(self._ids):
            if contact_id in repeated:
                groups.setdefault(contact_id, []).append(self.entry(position))
        yield from groups.values()

    def entry(self, position: int) -> LedgerEntry:
        mask = self._wide_masks.get(position, self._changed_masks[position])
        indexes = tuple(i for i in range(mask.bit_length()) if mask >> i & 1)
        return LedgerEntry(
            position,
            self._row_numbers[position],
            self._ids[position],
            _OUTCOMES[self._outcomes[position]],
            indexes,
        )
