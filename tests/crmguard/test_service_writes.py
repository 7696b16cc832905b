"""Guarded changes: scoped, atomic with their ledger event, refused outside the scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import crm_models
from crmguard.service import AccessDenied, InvalidInput
from tests.crmguard.world import World


def _contact_owned_by(world: World, user_id: int) -> int:
    t = crm_models.Contact.__table__
    with world.crm.engine.connect() as conn:
        return int(conn.execute(select(t.c.id).where(t.c.owner_id == user_id)).scalars().first())


def test_update_in_scope_is_recorded(world: World) -> None:
    rep = world.crm.principal(world.data.rep_same_team)
    cid = _contact_owned_by(world, rep.user_id)
    row = world.crm.update(world.ctx(rep.username), "contact", cid, {"city": "Tromsø"})
    assert row["city"] == "Tromsø"
    entry = next(world.crm.ledger.entries(actor=rep.username, action="update"))
    assert entry.record_ids == (cid,) and entry.details["fields"] == ["city"]


def test_update_outside_scope_changes_nothing(world: World) -> None:
    other = world.crm.principal(world.data.rep_other_team)
    rep = world.crm.principal(world.data.rep_same_team)
    cid = _contact_owned_by(world, rep.user_id)
    with pytest.raises(crm_models.RecordNotFound):
        world.crm.update(world.ctx(other.username), "contact", cid, {"city": "Nowhere"})
    with pytest.raises(AccessDenied):  # reps may not delete at all
        world.crm.delete(world.ctx(other.username), "contact", cid)
    t = crm_models.Contact.__table__
    with world.crm.engine.connect() as conn:
        city = conn.execute(select(t.c.city).where(t.c.id == cid)).scalar_one()
    assert city != "Nowhere"
    denied = [e.action for e in world.crm.ledger.entries(actor=other.username, outcome="denied")]
    assert sorted(denied) == ["delete", "update"]


def test_create_is_owned_by_its_creator_and_owner_cannot_be_smuggled(world: World) -> None:
    rep = world.crm.principal(world.data.rep_same_team)
    ctx = world.ctx(rep.username)
    row = world.crm.create(ctx, "contact", {"first_name": "Ngozi", "last_name": "Okafor"})
    assert row["owner_id"] == rep.user_id
    with pytest.raises(InvalidInput):
        world.crm.create(ctx, "contact", {"first_name": "X", "last_name": "Y", "owner_id": 1})
    with pytest.raises(InvalidInput):
        world.crm.update(ctx, "contact", row["id"], {"owner_id": 1})


def test_reassign_within_team_by_manager(world: World) -> None:
    manager = world.crm.principal(world.data.departing)
    rep = world.crm.principal(world.data.rep_same_team)
    other = world.data.rep_other_team
    cid = _contact_owned_by(world, rep.user_id)
    ctx = world.ctx(manager.username)
    assert world.crm.reassign(ctx, "contact", cid, manager.username)["owner_id"] == manager.user_id
    with pytest.raises(AccessDenied):
        world.crm.reassign(ctx, "contact", cid, other)
