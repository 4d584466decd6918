from __future__ import annotations

from services.contacts.domain.contact_state import AccountRules, canonical_values
from services.contacts.domain.custom_field_rules import canonical_custom_value
from services.contacts.domain.demo_data import COLUMNS, DEMO_CUSTOM_FIELDS, DemoContactGenerator
from services.contacts.domain.tokens import generate_token, hash_token


def test_tokens_are_random_and_hashed() -> None:
    a, b = generate_token(), generate_token()
    assert a != b and a.startswith("crmb_")
    assert hash_token(a) == hash_token(a) and hash_token(a) != hash_token(b) and a not in hash_token(a)


def test_demo_contacts_are_valid_canonical_values() -> None:
    fields = {d.key: d for d in DEMO_CUSTOM_FIELDS}
    rules = AccountRules(frozenset({"lead"}), frozenset({1}), fields)
    rows = DemoContactGenerator(1, [1], ["lead"], seed=3).rows(2000)
    assert rows == DemoContactGenerator(1, [1], ["lead"], seed=3).rows(2000)  # seeded
    starts = set()
    for row in rows:
        record = dict(zip(COLUMNS, row, strict=True))
        values = {k: record[k] for k in ("name", "emails", "phones", "company", "job_title", "tags")}
        assert canonical_values(values, rules) == values
        for key, value in record["custom_fields"].items():
            assert canonical_custom_value(fields[key], value) == value
        assert all(p.startswith("+55") and len(p) == 14 for p in record["phones"])
        starts.add((record["custom_fields"].get("observacoes") or " ")[0])
    assert {"=", "+"} <= starts
    assert any("ã" in r[1] or "ç" in r[1] or "é" in r[1] for r in rows)
