from __future__ import annotations

from datetime import UTC, datetime

from services.contacts.domain.bulk_plan import StoredContact, plan_batch
from services.contacts.domain.contact_state import AccountRules, ContactState
from shared.contacts_api import BulkApplyRequest, BulkApplyRow, RowAction, RowOutcomeKind

RULES = AccountRules(stage_keys=frozenset({"lead"}), owner_ids=frozenset({7}), custom_fields={})
STORED = {1: StoredContact(ContactState(name="Ana", tags=["x"]), 3, datetime(2024, 5, 1, 12, 0, 0, 900_000, UTC))}


def _request(*rows: BulkApplyRow, fields: list[str], tag: str | None = None) -> BulkApplyRequest:
    return BulkApplyRequest(idempotency_key="k:1", fields=fields, tag=tag, rows=list(rows))


def test_only_listed_fields_are_written_and_tag_added_on_change() -> None:
    row = BulkApplyRow(row_number=2, action=RowAction.UPDATE, contact_id=1, values={"name": "B", "company": "C"})
    plan = plan_batch(_request(row, fields=["company"], tag="imp"), STORED, RULES)
    [update] = plan.updates
    assert update.state.name == "Ana" and update.state.company == "C" and update.state.tags == ["x", "imp"]
    assert plan.outcomes[0].changed_fields == ["company", "tags"]


def test_unchanged_rows_get_no_tag_and_no_write() -> None:
    row = BulkApplyRow(row_number=2, action=RowAction.UPDATE, contact_id=1, values={"name": "Ana"})
    plan = plan_batch(_request(row, fields=["name"], tag="imp"), STORED, RULES)
    assert plan.outcomes[0].outcome is RowOutcomeKind.UNCHANGED and not plan.updates


def test_conflicts_compare_versions_and_seconds() -> None:
    rows = [
        BulkApplyRow(row_number=2, action=RowAction.UPDATE, contact_id=1, values={"company": "A"}, expected_version=2),
        BulkApplyRow(
            row_number=3,
            action=RowAction.UPDATE,
            contact_id=1,
            values={"company": "A"},
            expected_updated_at=datetime(2024, 5, 1, 11, 59, 59, tzinfo=UTC),
        ),
    ]
    plan = plan_batch(_request(*rows, fields=["company"]), STORED, RULES)
    assert [o.outcome for o in plan.outcomes] == [RowOutcomeKind.CONFLICT, RowOutcomeKind.CONFLICT]
    ok = BulkApplyRow(
        row_number=2,
        action=RowAction.UPDATE,
        contact_id=1,
        values={"company": "A"},
        expected_updated_at=datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC),
    )
    assert plan_batch(_request(ok, fields=["company"]), STORED, RULES).outcomes[0].outcome is RowOutcomeKind.UPDATED


def test_unknown_ids_bad_values_and_repeats_fail_alone() -> None:
    rows = [
        BulkApplyRow(row_number=2, action=RowAction.UPDATE, contact_id=99, values={"company": "A"}),
        BulkApplyRow(row_number=3, action=RowAction.UPDATE, contact_id=1, values={"owner": 8}),
        BulkApplyRow(row_number=4, action=RowAction.UPDATE, contact_id=1, values={"company": "A"}),
        BulkApplyRow(row_number=5, action=RowAction.UPDATE, contact_id=1, values={"company": "B"}),
        BulkApplyRow(row_number=6, action=RowAction.CREATE, values={"name": "Nova", "lifecycle_stage": "lead"}),
    ]
    plan = plan_batch(_request(*rows, fields=["company", "owner", "name", "lifecycle_stage"]), STORED, RULES)
    kinds = [(o.outcome, o.reason) for o in plan.outcomes]
    assert kinds[0] == (RowOutcomeKind.FAILED, "contact not found")
    assert kinds[1][0] is RowOutcomeKind.FAILED and "owner" in (kinds[1][1] or "")
    assert kinds[2][0] is RowOutcomeKind.UPDATED
    assert kinds[3][0] is RowOutcomeKind.FAILED and "earlier row" in (kinds[3][1] or "")
    assert kinds[4][0] is RowOutcomeKind.CREATED and len(plan.creates) == 1
