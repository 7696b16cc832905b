"""Restrictions: stored in the real database, enforced by decide()."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from access_helpers import principal
from sqlalchemy.engine import Engine

from access import (
    AccessControl,
    Restriction,
    RestrictionError,
    RestrictionNotFound,
    UnknownRestrictionKind,
    active_restrictions,
    add_restriction,
    lift_restriction,
    list_restrictions,
)

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
ANN = principal("sales_manager", user_id=1, username="ann")


def test_store_add_expire_lift_list(engine: Engine, shipped: AccessControl) -> None:
    with engine.begin() as conn:
        temp = add_restriction(
            conn,
            "ann",
            "exports_frozen",
            reason="alert 7",
            created_by="sec",
            expires_at=T0 + timedelta(hours=1),
            now=T0,
        )
        open_ended = add_restriction(
            conn, "ann", "departing", reason="leaves Friday", created_by="admin", now=T0
        )
        add_restriction(conn, "bob", "suspended", reason="x", created_by="admin", now=T0)
    with engine.connect() as conn:
        now = active_restrictions(conn, "ann", now=T0 + timedelta(minutes=5))
        assert [r.id for r in now] == [temp.id, open_ended.id]
        assert now[0].expires_at == T0 + timedelta(hours=1)  # aware UTC on both backends
        later = active_restrictions(conn, "ann", now=T0 + timedelta(hours=2))
        assert [r.kind for r in later] == ["departing"]
        # what the store returns drives decide(): departing narrows views to own
        assert shipped.decide(ANN, "view", "deal", now).scope == "own"
        assert shipped.decide(ANN, "export", "deal", later).rule == "restriction: departing"
    with engine.begin() as conn:
        lifted = lift_restriction(
            conn, open_ended.id, lifted_by="admin", now=T0 + timedelta(hours=3)
        )
    assert lifted.lifted_by == "admin"
    with engine.connect() as conn:
        assert active_restrictions(conn, "ann", now=T0 + timedelta(hours=4)) == ()
        history = list_restrictions(conn, "ann")
        assert [r.id for r in history] == [open_ended.id, temp.id]  # newest first
        assert history[0].lifted_at == T0 + timedelta(hours=3)
        assert len(list_restrictions(conn)) == 3
        with pytest.raises(RestrictionError, match="already lifted by admin"):
            lift_restriction(conn, open_ended.id, lifted_by="admin")
        with pytest.raises(RestrictionNotFound, match="restriction 999 not found"):
            lift_restriction(conn, 999, lifted_by="admin")
        with pytest.raises(UnknownRestrictionKind, match=r"'freeze'.*departing"):
            add_restriction(conn, "ann", "freeze", reason="", created_by="admin")
        with pytest.raises(RestrictionError, match="is not after now"):
            add_restriction(
                conn, "ann", "suspended", reason="", created_by="admin", expires_at=T0, now=T0
            )


def _r(
    kind: str,
    *,
    username: str = "ann",
    expires: datetime | None = None,
    lifted: datetime | None = None,
    rid: int = 1,
) -> Restriction:
    return Restriction(
        rid,
        username,
        kind,
        "reason",
        "admin",
        datetime.now(UTC) - timedelta(days=1),
        expires,
        lifted,
        "admin" if lifted else None,
    )


def test_suspended_denies_everything(shipped: AccessControl) -> None:
    for action, resource in [("view", "contact"), ("audit.read", "audit"), ("list", "deal")]:
        d = shipped.decide(ANN, action, resource, [_r("suspended")])
        assert not d.allowed and d.rule == "restriction: suspended"
        assert d.restrictions == ("suspended",) and d.scope == "none"


def test_exports_frozen_denies_export_and_print_only(shipped: AccessControl) -> None:
    frozen = [_r("exports_frozen", rid=5)]
    for action in ("export", "print"):
        d = shipped.decide(ANN, action, "contact", frozen)
        assert (d.allowed, d.rule, d.restrictions) == (
            False,
            "restriction: exports_frozen",
            ("exports_frozen",),
        )
        assert "restriction 5" in d.reason
    d = shipped.decide(ANN, "view", "contact", frozen)
    assert (d.allowed, d.scope) == (True, "team")


def test_departing_denies_bulk_and_narrows_scope_to_own(shipped: AccessControl) -> None:
    leaving = [_r("departing")]
    assert shipped.decide(ANN, "export", "deal", leaving).rule == "restriction: departing"
    view = shipped.decide(ANN, "view", "deal", leaving)
    assert (view.allowed, view.scope, view.restrictions) == (True, "own", ("departing",))
    # already-own scopes stay as they are; nothing is widened
    rep = principal("sales_rep", username="ann")
    assert shipped.decide(rep, "view", "deal", leaving).scope == "own"


def test_expired_lifted_and_foreign_restrictions_have_no_effect(
    shipped: AccessControl,
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    future = datetime.now(UTC) + timedelta(hours=1)
    plain = shipped.decide(ANN, "export", "contact")
    for r in (
        _r("suspended", expires=past),
        _r("suspended", lifted=past),
        _r("suspended", username="bob"),
    ):
        assert shipped.decide(ANN, "export", "contact", [r]) == plain
    temporary = shipped.decide(ANN, "export", "contact", [_r("exports_frozen", expires=future)])
    assert not temporary.allowed


def _held(kind: str, username: str = "ann") -> Restriction:
    return Restriction(1, username, kind, "r", "sec", T0 - timedelta(days=1))


def test_departing_replans_masks_for_the_narrowed_scope(shipped: AccessControl) -> None:
    both = principal("support", "sales_manager", user_id=1, username="ann")
    before = shipped.decide(both, "view", "contact")
    assert (before.scope, before.masked_fields, before.lifted) == (
        "all",
        ("email", "phone"),
        (("email", "team"), ("phone", "team")),
    )
    # departing: only own rows remain, and on them sales_manager shows every field
    after = shipped.decide(both, "view", "contact", [_held("departing")])
    assert (after.scope, after.masked_fields, after.lifted) == ("own", (), ())
    support = principal("support", user_id=1, username="ann")
    alone = shipped.decide(support, "view", "contact", [_held("departing")])
    assert (alone.scope, alone.masked_fields) == ("own", ("email", "phone"))


@pytest.mark.parametrize("kind", ["exports_frozen", "departing"])
def test_frozen_or_departing_shrink_the_read_budget(shipped: AccessControl, kind: str) -> None:
    held = [_held(kind)]
    for action in ("list", "search"):
        d = shipped.decide(ANN, action, "contact", held)
        assert d.allowed and d.budget == 200 and kind in d.restrictions
        assert "read budget 200 rows per 24 h" in d.reason
    assert shipped.decide(ANN, "list", "contact").budget == 2000
    assert shipped.decide(ANN, "view", "contact", held).budget is None
    # someone else's restriction changes nothing
    assert shipped.decide(ANN, "list", "contact", [_held(kind, "bob")]).budget == 2000
