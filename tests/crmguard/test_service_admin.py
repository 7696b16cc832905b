"""The admins' operations: decided, scoped with the SQL scope rule, and recorded."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

import crm_models
from access import RestrictionNotFound, UnknownAction
from crmguard.errors import UnknownUser
from crmguard.service import AccessDenied, operator_context
from tests.crmguard.world import World

OP = operator_context("tester")


def _last(world: World):  # type: ignore[no-untyped-def]
    return next(world.crm.ledger.entries(newest_first=True))


def _contacts_owned_by(world: World, username: str) -> set[int]:
    t = crm_models.Contact.__table__
    uid = world.crm.principal(username).user_id
    with world.crm.engine.connect() as conn:
        return set(conn.execute(select(t.c.id).where(t.c.owner_id == uid)).scalars())


def _team_usernames(world: World, team_id: int) -> set[str]:
    t = crm_models.User.__table__
    with world.crm.engine.connect() as conn:
        return set(conn.execute(select(t.c.username).where(t.c.team_id == team_id)).scalars())


def test_check_access_judges_the_record_with_the_sql_scope(world: World) -> None:
    rep = world.data.rep_same_team
    mine = sorted(_contacts_owned_by(world, rep))[0]
    theirs = sorted(_contacts_owned_by(world, world.data.rep_other_team))[0]
    yes = world.crm.check_access(OP, rep, "view", "contact", mine)
    assert yes.allowed and yes.record_in_scope is True and yes.decision.scope == "own"
    no = world.crm.check_access(OP, rep, "view", "contact", theirs)
    assert not no.allowed and no.record_in_scope is False
    assert "outside" in no.reason and no.to_json()["allowed"] is False
    entry = _last(world)
    assert (entry.actor, entry.action) == ("operator:tester", "access.check")
    assert entry.record_ids == (rep,)
    assert entry.details["asked"] == {"action": "view", "resource": "contact", "record_id": theirs}
    assert entry.details["answer"] == "denied"
    # The list (the same SQL scope) agrees with the check.
    listed = {r["id"] for r in world.crm.list(world.ctx(rep), "contact", page_size=500).items}
    assert mine in listed and theirs not in listed


def test_explain_agrees_with_check_and_is_recorded(world: World) -> None:
    manager = world.data.departing
    same_team = sorted(_contacts_owned_by(world, world.data.rep_same_team))[0]
    other_team = sorted(_contacts_owned_by(world, world.data.rep_other_team))[0]
    for record, expected in ((same_team, True), (other_team, False)):
        e = world.crm.explain_access(OP, manager, "view", "contact", record)
        assert e.allowed is expected and e.record_in_scope is expected
        check = world.crm.check_access(OP, manager, "view", "contact", record)
        assert check.allowed is expected
    explained = [
        e for e in world.crm.ledger.entries(action="access.explain") if e.record_ids == (manager,)
    ]
    assert len(explained) == 2


def test_asking_about_someone_outside_your_user_scope_is_denied(world: World) -> None:
    rep = world.data.rep_same_team
    ctx = world.ctx(rep)
    # A rep may ask about a team mate (view user, team scope), not about another team.
    assert world.crm.check_access(ctx, world.data.departing, "view", "contact").allowed
    with pytest.raises(AccessDenied):
        world.crm.check_access(ctx, world.data.rep_other_team, "view", "contact")
    entry = _last(world)
    assert entry.outcome == "denied" and entry.record_ids == (world.data.rep_other_team,)
    with pytest.raises(AccessDenied):
        world.crm.explain_access(ctx, world.data.owner, "view", "contact")
    # Support holds no right on users at all.
    with pytest.raises(AccessDenied):
        world.crm.check_access(world.ctx(world.data.support), world.data.support, "view", "user")


def test_unknown_subject_and_bad_action_are_errors(world: World) -> None:
    with pytest.raises(UnknownUser):
        world.crm.check_access(OP, "nobody.here", "view", "contact")
    entry = _last(world)
    assert entry.outcome == "error" and entry.record_ids == ("nobody.here",)
    with pytest.raises(UnknownAction):
        world.crm.check_access(OP, world.data.rep_same_team, "exprot", "contact")
    with pytest.raises(crm_models.RecordNotFound):
        world.crm.check_access(OP, world.data.rep_same_team, "view", "contact", 10_000_000)


def test_list_users_is_scoped_and_recorded(world: World) -> None:
    everyone = world.crm.list_users(OP)
    assert len(everyone) == len(world.data.user_ids)
    rep = world.data.rep_same_team
    team_id = world.crm.principal(rep).team_id
    assert team_id is not None
    seen = world.crm.list_users(world.ctx(rep))
    assert {u.username for u in seen} == _team_usernames(world, team_id)
    entry = _last(world)
    assert (entry.actor, entry.action, entry.resource) == (rep, "list", "user")
    assert set(entry.record_ids) == {u.username for u in seen}
    assert world.crm.list_users(world.ctx(world.data.admin)) == everyone
    with pytest.raises(AccessDenied):
        world.crm.list_users(world.ctx(world.data.support))


def test_restrict_and_lift_are_one_transaction_each_and_recorded(world: World) -> None:
    sec = world.ctx(world.data.security)
    rep = world.data.rep_same_team
    r = world.crm.restrict_user(sec, rep, "exports_frozen", reason="alert 7", hours=2)
    assert r.username == rep and r.created_by == world.data.security and r.expires_at
    entry = _last(world)
    assert (entry.action, entry.resource, entry.record_ids) == ("restrict", "user", (rep,))
    assert entry.details["restriction"] == "exports_frozen" and entry.details["id"] == r.id
    with pytest.raises(AccessDenied):
        world.crm.export(world.ctx(rep), "contact", io.StringIO())
    lifted = world.crm.lift_restriction(world.ctx(world.data.admin), r.id)
    assert lifted.lifted_by == world.data.admin
    entry = _last(world)
    assert entry.details == {"lifted": "exports_frozen", "restriction": r.id}
    world.crm.export(world.ctx(rep), "contact", io.StringIO())
    listed = world.crm.list_restrictions(sec, rep)
    assert [x.id for x in listed] == [r.id] and listed[0].lifted_at is not None
    assert _last(world).resource == "restriction"


def test_who_may_not_restrict_cannot_and_leaves_nothing(world: World) -> None:
    manager = world.ctx(world.data.departing)
    with pytest.raises(AccessDenied):
        world.crm.restrict_user(manager, world.data.rep_same_team, "suspended")
    denied = _last(world)
    assert denied.outcome == "denied" and denied.record_ids == (world.data.rep_same_team,)
    assert world.crm.list_restrictions(OP) == ()
    with pytest.raises(AccessDenied):
        world.crm.list_restrictions(world.ctx(world.data.rep_same_team))
    with pytest.raises(UnknownUser):
        world.crm.restrict_user(OP, "nobody.here", "suspended")
    with pytest.raises(RestrictionNotFound):
        world.crm.lift_restriction(OP, 999)
    assert world.crm.list_restrictions(OP) == ()
