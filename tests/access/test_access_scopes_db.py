"""Row scopes and masks executed against real SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from access_helpers import principal
from sqlalchemy import select
from sqlalchemy.engine import Engine

from access import MASK, AccessControl, Decision, UnsupportedScope
from crm_models import Contact, RecordNotFound, get_record, list_records, search_records

ANN = principal("sales_rep", user_id=1, team_id=1, username="ann")
CAT = principal("sales_manager", user_id=3, team_id=2, username="cat")
DAN = principal("sales_manager", user_id=4, team_id=None, username="dan")


def ids(
    seeded: Engine,
    control: AccessControl,
    who: object,
    action: str,
    resource: str,
) -> list[int]:
    decision = control.decide(who, action, resource)  # type: ignore[arg-type]
    clause = control.scope_clause(decision, who)  # type: ignore[arg-type]
    with seeded.connect() as conn:
        page = list_records(conn, resource, where=[clause], page_size=100)
    return [row["id"] for row in page.items]


def test_own_scope_returns_exactly_own_rows(seeded: Engine, shipped: AccessControl) -> None:
    assert ids(seeded, shipped, ANN, "view", "contact") == [11, 12]


def test_team_scope_returns_team_members_rows(seeded: Engine, shipped: AccessControl) -> None:
    mgr = principal("sales_manager", user_id=2, team_id=1, username="bob")
    assert ids(seeded, shipped, mgr, "list", "contact") == [11, 12, 21, 22]
    assert ids(seeded, shipped, CAT, "export", "contact") == [31, 32]


def test_team_scope_without_team_is_own(seeded: Engine, shipped: AccessControl) -> None:
    assert ids(seeded, shipped, DAN, "view", "contact") == [41, 42]


def test_all_scope_returns_every_row(seeded: Engine, shipped: AccessControl) -> None:
    everyone = [11, 12, 21, 22, 31, 32, 41, 42, 99]
    assert ids(seeded, shipped, principal("head_of_sales"), "view", "contact") == everyone
    assert ids(seeded, shipped, principal("support"), "search", "contact") == everyone


def test_denied_scope_returns_nothing(seeded: Engine, shipped: AccessControl) -> None:
    assert ids(seeded, shipped, principal("admin"), "view", "contact") == []


def test_user_and_team_resources(seeded: Engine, shipped: AccessControl) -> None:
    assert ids(seeded, shipped, ANN, "view", "user") == [1, 2]  # team scope: colleagues
    assert ids(seeded, shipped, ANN, "view", "team") == [1]  # own team only
    lonely = principal("sales_rep", user_id=4, team_id=None, username="dan")
    assert ids(seeded, shipped, lonely, "view", "user") == [4]
    assert ids(seeded, shipped, lonely, "view", "team") == []
    assert ids(seeded, shipped, principal("admin"), "list", "user") == [1, 2, 3, 4]


def test_scope_applies_to_single_record_and_search(seeded: Engine, shipped: AccessControl) -> None:
    decision = shipped.decide(ANN, "view", "contact")
    clause = shipped.scope_clause(decision, ANN)
    with seeded.connect() as conn:
        assert get_record(conn, "contact", 11, where=[clause])["owner_id"] == 1
        with pytest.raises(RecordNotFound):
            get_record(conn, "contact", 21, where=[clause])
        hits = search_records(conn, "contact", "example.com", where=[clause])
    assert sorted(h["id"] for h in hits) == [11, 12]


def test_masks_are_applied_in_sql(seeded: Engine, shipped: AccessControl) -> None:
    support = principal("support", user_id=4, team_id=None, username="dan")
    decision = shipped.decide(support, "view", "contact")
    with seeded.connect() as conn:
        page = list_records(
            conn,
            "contact",
            where=[shipped.scope_clause(decision, support)],
            replace=shipped.mask_columns(decision, support),
            page_size=100,
        )
    assert len(page.items) == 9
    assert {r["phone"] for r in page.items} == {MASK}
    assert {r["email"] for r in page.items} == {MASK}
    assert page.items[0]["first_name"] == "F11"  # unmasked fields come through


# Dan (user 4, no team) holds support and sales_rep: support masks phone and email on
# every contact, sales_rep grants his own (41, 42) without masks.
DAN_BOTH = principal("support", "sales_rep", user_id=4, team_id=None, username="dan")


def test_second_role_lifts_masks_only_on_its_own_rows(
    seeded: Engine, shipped: AccessControl
) -> None:
    decision = shipped.decide(DAN_BOTH, "list", "contact")
    with seeded.connect() as conn:
        page = list_records(
            conn,
            "contact",
            where=[shipped.scope_clause(decision, DAN_BOTH)],
            replace=shipped.mask_columns(decision, DAN_BOTH),
            page_size=100,
        )
    phones = {r["id"]: r["phone"] for r in page.items}
    assert len(phones) == 9  # scope all: every contact is listed
    assert phones[41] == "+100000" + "41" and phones[42] == "+100000" + "42"
    assert {p for cid, p in phones.items() if cid not in (41, 42)} == {MASK}
    # without the principal, every masked field is masked on every row (conservative)
    with seeded.connect() as conn:
        row = get_record(conn, "contact", 41, replace=shipped.mask_columns(decision))
    assert row["phone"] == MASK


def test_search_never_matches_a_masked_value(seeded: Engine, shipped: AccessControl) -> None:
    support = principal("support", user_id=4, team_id=None, username="dan")
    for who, expected in ((support, []), (DAN_BOTH, [41, 42])):
        decision = shipped.decide(who, "search", "contact")
        with seeded.connect() as conn:
            hits = search_records(
                conn,
                "contact",
                "+100000",  # in every phone, and nowhere else
                where=[shipped.scope_clause(decision, who)],
                replace=shipped.mask_columns(decision, who),
                search_in=shipped.search_columns(decision, who),
            )
        assert sorted(h["id"] for h in hits) == expected
    # unmasked searchable fields are still searched on every row in scope
    decision = shipped.decide(support, "search", "contact")
    with seeded.connect() as conn:
        hits = search_records(
            conn,
            "contact",
            "f3",
            where=[shipped.scope_clause(decision, support)],
            search_in=shipped.search_columns(decision, support),
        )
    assert sorted(h["id"] for h in hits) == [31, 32]


def test_masked_among_names_fields_masked_on_any_row(shipped: AccessControl) -> None:
    decision = shipped.decide(DAN_BOTH, "list", "contact")
    assert shipped.masked_among(decision, ["city", "phone", "email"]) == ("email", "phone")
    owner = shipped.decide(principal("owner"), "list", "contact")
    assert shipped.masked_among(owner, ["phone"]) == ()


def test_mask_row_python_side(shipped: AccessControl) -> None:
    decision = shipped.decide(principal("support"), "view", "contact")
    row = {"id": 1, "email": "x@example.com", "phone": "123", "city": "Oslo"}
    assert shipped.mask_row(decision, row) == {
        "id": 1,
        "email": MASK,
        "phone": MASK,
        "city": "Oslo",
    }
    assert row["email"] == "x@example.com"  # the input is not modified
    unmasked = shipped.decide(principal("owner"), "view", "contact")
    assert shipped.mask_row(unmasked, row) == row


def test_owner_column_override_for_other_tables(seeded: Engine, shipped: AccessControl) -> None:
    # Any table with a user-id column can reuse the scope rules (as the ledger may);
    # contacts stand in for such a table here.
    decision = shipped.decide(ANN, "audit.read", "audit")
    assert decision.scope == "own"
    with pytest.raises(UnsupportedScope):
        shipped.scope_clause(decision, ANN)
    clause = shipped.scope_clause(decision, ANN, owner_column=Contact.owner_id)
    team = Decision(True, "audit.read", "audit", "x", "team", (), None)
    team_clause = shipped.scope_clause(team, ANN, owner_column=Contact.owner_id)
    with seeded.connect() as conn:
        own = conn.execute(select(Contact.id).where(clause).order_by(Contact.id)).scalars()
        assert list(own) == [11, 12]
        mates = conn.execute(select(Contact.id).where(team_clause).order_by(Contact.id))
        assert list(mates.scalars()) == [11, 12, 21, 22]


def test_scope_sql_is_parameterized(shipped: AccessControl) -> None:
    decision = shipped.decide(CAT, "view", "contact")
    compiled = shipped.scope_clause(decision, CAT).compile()
    assert "2" not in str(compiled)  # the team id travels as a bound parameter
    assert 2 in compiled.params.values()
