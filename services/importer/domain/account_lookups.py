"""Names a user types for owners, stages and select options, resolved to what is stored.

Matching folds case, accents, punctuation and spacing (`normalize_header`), so `joão
silva`, `JOAO SILVA` and `João  Silva` are the same owner.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.importer.domain.parse_problem import ParseProblem
from shared.contacts_api import AccountContext
from shared.fields import normalize_header

# Owners, stages and options repeat down a column: fold each distinct text once.
fold = lru_cache(maxsize=8192)(normalize_header)

_NAME_WITH_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>$")


class AccountLookups:
    def __init__(self, account: AccountContext) -> None:
        self._owners_by_email = {o.email.strip().casefold(): o.id for o in account.owners}
        self._owners_by_name: dict[str, list[int]] = {}
        for owner in account.owners:
            self._owners_by_name.setdefault(normalize_header(owner.name), []).append(owner.id)
        self._owner_labels = {o.id: f"{o.name} <{o.email}>" for o in account.owners}
        self._owner_names = [o.name for o in account.owners]
        stages = sorted(account.lifecycle_stages, key=lambda s: s.position)
        self._stage_names = [s.name for s in stages]
        self._stages: dict[str, str] = {}
        for stage in stages:
            self._stages.setdefault(normalize_header(stage.key), stage.key)
        for stage in stages:  # a name wins over another stage's key
            self._stages[normalize_header(stage.name)] = stage.key
        self._options_cache: dict[tuple[str, ...], dict[str, str]] = {}

    def owner(self, text: str) -> int | ParseProblem:
        """An owner id by email, name, or `Name <email>`. An ambiguous name's problem
        carries `candidate_ids`, so validation can keep the contact's current owner."""
        match = _NAME_WITH_EMAIL.match(text)
        email = (match["email"] if match else text).casefold()
        if email in self._owners_by_email:
            return self._owners_by_email[email]
        ids = self._owners_by_name.get(fold(text), [])
        if len(ids) == 1:
            return ids[0]
        if ids:
            return ParseProblem(
                "ambiguous_owner",
                {
                    "value": text,
                    "candidates": [self._owner_labels[i] for i in ids],
                    "candidate_ids": ids,
                },
            )
        return ParseProblem("unknown_owner", {"value": text, "owners": self._owner_names})

    def owner_candidates(self, problem: ParseProblem) -> list[int]:
        ids = problem.params.get("candidate_ids", [])
        return list(ids) if isinstance(ids, list) else []

    def stage(self, text: str) -> str | ParseProblem:
        key = self._stages.get(fold(text))
        if key is None:
            return ParseProblem("unknown_lifecycle_stage", {"value": text, "stages": self._stage_names})
        return key

    def option(self, text: str, options: tuple[str, ...]) -> str | ParseProblem:
        index = self._options_cache.get(options)
        if index is None:
            index = {}
            for option in options:
                index.setdefault(normalize_header(option), option)
            self._options_cache[options] = index
        matched = index.get(fold(text))
        if matched is None:
            return ParseProblem("unknown_option", {"value": text, "options": list(options)})
        return matched
