"""Why a cell could not be read: a feedback code and its params (no text: see feedback)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ParseProblem:
    code: str
    params: Mapping[str, object] = field(default_factory=dict)
