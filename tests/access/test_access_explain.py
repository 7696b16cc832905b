"""Explanations: why a user may (or may not) see a given record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from access_helpers import principal

from access import AccessControl, Restriction

ANN = principal("sales_rep", user_id=1, team_id=1, username="ann")
MGR = principal("sales_manager", user_id=2, team_id=1, username="bob")


def test_own_record_is_visible_with_rule_and_line(shipped: AccessControl) -> None:
    e = shipped.explain(
        ANN, "view", "contact", {"id": 11, "owner_id": 1}, owner_team_id=1, in_scope=True
    )
    assert e.allowed and e.record_in_scope is True
    line = shipped.policy.rule_lines["p, sales_rep, contact, view, own, allow"]
    assert f"rule: p, sales_rep, contact, view, own, allow (policy.csv line {line})" in e.lines
    assert "scope own: records whose owner_id is user 1" in e.lines
    assert e.lines[-1] == "yes: ann may view contact 11"


def test_colleagues_record_outside_own_inside_team(shipped: AccessControl) -> None:
    record = {"id": 21, "owner_id": 2}
    e = shipped.explain(ANN, "view", "contact", record, owner_team_id=1, in_scope=False)
    assert not e.allowed and e.record_in_scope is False
    assert "contact 21 is owned by user 2 (team 1): outside the own scope" in e.lines
    assert e.lines[-1] == "no: ann may not view contact 21"
    e = shipped.explain(
        MGR, "view", "contact", {"id": 11, "owner_id": 1}, owner_team_id=1, in_scope=True
    )
    assert e.allowed and "inside the team scope" in e.lines[-2]
    other_team = shipped.explain(
        MGR, "view", "contact", {"id": 31, "owner_id": 3}, 2, in_scope=False
    )
    assert not other_team.allowed


def test_denied_action_masks_and_restrictions_are_explained(shipped: AccessControl) -> None:
    support = principal("support", user_id=4, team_id=None, username="dan")
    e = shipped.explain(support, "view", "contact", {"id": 11, "owner_id": 1}, 1, in_scope=True)
    assert e.allowed and "masked fields: email, phone" in e.lines
    e = shipped.explain(support, "export", "contact")
    assert not e.allowed and e.record_in_scope is None
    assert any(line.startswith("because: explicitly denied by policy line") for line in e.lines)
    frozen = Restriction(
        3,
        "ann",
        "exports_frozen",
        "alert",
        "sec",
        datetime.now(UTC),
        datetime.now(UTC) + timedelta(hours=1),
    )
    e = shipped.explain(ANN, "export", "contact", restrictions=[frozen])
    assert not e.allowed
    assert e.decision.rule == "restriction: exports_frozen"
    assert any(
        line.startswith("restriction 3 exports_frozen placed by sec: in force until")
        for line in e.lines
    )


def test_inherited_roles_and_json(shipped: AccessControl) -> None:
    head = principal("head_of_sales", user_id=9, team_id=None, username="hed")
    e = shipped.explain(head, "export", "deal")
    assert "inherited through g lines: sales_manager" in e.lines
    assert "row cap: 5000 rows" in e.lines
    data = e.to_json()
    assert data["allowed"] is True and data["decision"]["limit"] == 5000
    assert data["lines"] == list(e.lines) and str(e) == "\n".join(e.lines)
    assert data["record_in_scope"] is None


def test_explanations_do_not_leak_record_contents(shipped: AccessControl) -> None:
    record = {"id": 11, "owner_id": 1, "email": "secret@example.com", "phone": "+4912345678"}
    text = str(shipped.explain(ANN, "view", "contact", record, 1))
    assert "secret@example.com" not in text and "+4912345678" not in text


def test_scope_is_never_guessed_without_the_database(shipped: AccessControl) -> None:
    # The in-scope answer comes from the SQL scope clause (the service asks the database);
    # without it the explanation says so instead of re-implementing the rule.
    e = shipped.explain(ANN, "view", "contact", {"id": 11, "owner_id": 1}, 1)
    assert e.record_in_scope is None
    assert "contact 11 is owned by user 1 (team 1): scope not checked against the database" in (
        e.lines
    )


def test_explains_per_row_masks_and_read_budget(shipped: AccessControl) -> None:
    both = principal("support", "sales_rep", user_id=4, team_id=None, username="dan")
    e = shipped.explain(both, "list", "contact")
    assert "masked fields: email, phone" in e.lines
    assert "phone shown only on the own-scope rows of a role not masking it" in e.lines
    assert "read budget: 2000 rows per 24 h" in e.lines
    assert (
        "read budget: unlimited per 24 h"
        in shipped.explain(principal("owner"), "search", "deal").lines
    )
