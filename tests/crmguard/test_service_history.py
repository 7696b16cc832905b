"""Field history: changes keep their values in the ledger, read back scoped and masked."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

import crm_models
from access import MASK
from crmguard.service import AccessDenied
from tests.crmguard.world import World


def _contact_owned_by(world: World, user_id: int) -> dict[str, Any]:
    t = crm_models.Contact.__table__
    with world.crm.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.owner_id == user_id).order_by(t.c.id)).first()
    assert row is not None
    return dict(row._mapping)


def test_update_keeps_old_and_new_values_in_the_ledger(world: World) -> None:
    rep = world.crm.principal(world.data.rep_same_team)
    before = _contact_owned_by(world, rep.user_id)
    ctx = world.ctx(world.data.departing)
    world.crm.update(
        ctx, "contact", before["id"], {"phone": "+47 000 00 000", "city": before["city"]}
    )
    entry = next(world.crm.ledger.entries(actor=world.data.departing, action="update"))
    assert entry.details["fields"] == ["city", "phone"]
    # Only what changed is kept, with both values: the way back.
    assert entry.details["changes"] == {"phone": {"old": before["phone"], "new": "+47 000 00 000"}}
    assert world.crm.ledger.verify().ok


def test_history_shows_values_to_those_who_may_see_them(world: World) -> None:
    rep = world.crm.principal(world.data.rep_same_team)
    before = _contact_owned_by(world, rep.user_id)
    cid = before["id"]
    manager = world.ctx(world.data.departing)
    world.crm.update(manager, "contact", cid, {"phone": "+1 555 0100", "city": "Oslo"})
    world.crm.update(manager, "contact", cid, {"phone": "+1 555 0199"})

    full = world.crm.history(world.ctx(world.data.owner), "contact", cid)
    assert full.exists and not full.masked_fields
    assert [e.action for e in full.entries] == ["update", "update"]
    assert full.entries[0].changes["phone"] == {"old": before["phone"], "new": "+1 555 0100"}
    assert full.entries[0].changes["city"] == {"old": before["city"], "new": "Oslo"}
    assert full.entries[1].changes == {"phone": {"old": "+1 555 0100", "new": "+1 555 0199"}}

    # Support reads contacts with phone and email masked: the history masks them too.
    support = world.crm.history(world.ctx(world.data.support), "contact", cid)
    assert set(support.masked_fields) == {"email", "phone"}
    assert support.entries[0].changes["phone"] == {"old": MASK, "new": MASK}
    assert support.entries[0].changes["city"] == {"old": before["city"], "new": "Oslo"}
    assert before["phone"] not in repr(support.to_json())

    # The reading is recorded as a view of the record, with what was masked.
    read = next(
        world.crm.ledger.entries(actor=world.data.support, action="view", newest_first=True)
    )
    assert read.record_ids == (cid,)
    assert read.details["history"] == 2 and read.details["masked"] == ["email", "phone"]


def test_history_out_of_scope_is_not_found_and_recorded(world: World) -> None:
    rep = world.crm.principal(world.data.rep_same_team)
    cid = _contact_owned_by(world, rep.user_id)["id"]
    world.crm.update(world.ctx(rep.username), "contact", cid, {"phone": "+44 20 7946 0000"})
    outsider = world.data.rep_other_team
    with pytest.raises(crm_models.RecordNotFound):
        world.crm.history(world.ctx(outsider), "contact", cid)
    with pytest.raises(crm_models.RecordNotFound):  # never existed: the same answer
        world.crm.history(world.ctx(outsider), "contact", 10**9)
    with pytest.raises(AccessDenied):  # admins hold no client data at all
        world.crm.history(world.ctx(world.data.admin), "contact", cid)
    denied = list(world.crm.ledger.entries(actor=outsider, outcome="denied"))
    assert [e.record_ids for e in denied] == [(cid,), (10**9,)]
    assert all(e.details["history"] is True for e in denied)


def test_deleted_record_is_kept_and_recovered_through_the_same_masks(world: World) -> None:
    rep = world.crm.principal(world.data.rep_same_team)
    before = _contact_owned_by(world, rep.user_id)
    cid = before["id"]
    world.crm.delete(world.ctx(world.data.departing), "contact", cid)
    deleted = next(world.crm.ledger.entries(action="delete", record_id=cid)).details["deleted"]
    assert deleted["phone"] == before["phone"] and deleted["owner_id"] == rep.user_id

    # The owner of the deleted record (scope own) and the head of sales may see it back.
    for who in (rep.username, world.data.head_of_sales):
        history = world.crm.history(world.ctx(who), "contact", cid)
        assert not history.exists
        assert history.entries[-1].action == "delete"
        assert history.entries[-1].values["phone"] == before["phone"]
        assert history.entries[-1].values["last_name"] == before["last_name"]
    # Support: the deleted record's masked fields stay masked.
    history = world.crm.history(world.ctx(world.data.support), "contact", cid)
    assert history.entries[-1].values["phone"] == MASK
    assert history.entries[-1].values["email"] == MASK
    assert history.entries[-1].values["last_name"] == before["last_name"]
    # Another team's rep could not see it alive, and cannot see it dead.
    with pytest.raises(crm_models.RecordNotFound):
        world.crm.history(world.ctx(world.data.rep_other_team), "contact", cid)


def test_history_masks_follow_the_views_masks_for_every_user(world: World) -> None:
    """Whatever the masks are (per role, per row), history shows what view shows."""
    rep = world.crm.principal(world.data.rep_same_team)
    cid = _contact_owned_by(world, rep.user_id)["id"]
    world.crm.update(
        world.ctx(world.data.departing),
        "contact",
        cid,
        {"phone": "+33 1 00 00", "email": "x@y.example"},
    )
    users = crm_models.User.__table__
    with world.crm.engine.connect() as conn:
        names = conn.execute(select(users.c.username).where(users.c.active.is_(True))).scalars()
        usernames = list(names)
    checked = 0
    for name in usernames:
        ctx = world.ctx(name)
        try:
            viewed = world.crm.view(ctx, "contact", cid)
        except (AccessDenied, crm_models.RecordNotFound):
            with pytest.raises((AccessDenied, crm_models.RecordNotFound)):
                world.crm.history(ctx, "contact", cid)
            continue
        change = world.crm.history(ctx, "contact", cid).entries[-1].changes
        for field in ("phone", "email"):
            shown = change[field]["new"]
            assert (shown == MASK) == (viewed[field] == MASK), (name, field)
        checked += 1
    assert checked >= 5


def test_reassign_and_create_keep_their_values(world: World) -> None:
    manager = world.crm.principal(world.data.departing)
    rep = world.crm.principal(world.data.rep_same_team)
    cid = _contact_owned_by(world, rep.user_id)["id"]
    world.crm.reassign(world.ctx(manager.username), "contact", cid, manager.username)
    created = world.crm.create(
        world.ctx(rep.username), "contact", {"first_name": "Aiko", "last_name": "Tanaka"}
    )
    history = world.crm.history(world.ctx(world.data.owner), "contact", cid)
    assert history.entries[-1].changes == {"owner_id": {"old": rep.user_id, "new": manager.user_id}}
    history = world.crm.history(world.ctx(rep.username), "contact", created["id"])
    assert [e.action for e in history.entries] == ["create"]
    assert history.entries[0].values["first_name"] == "Aiko"


def test_a_reused_id_does_not_carry_its_earlier_life(sqlite_world: World) -> None:
    """SQLite may hand a deleted id to the next record: each life is judged on its own."""
    world = sqlite_world
    t = crm_models.Contact.__table__
    with world.crm.engine.connect() as conn:
        top = conn.execute(select(func.max(t.c.id))).scalar_one()
        owner_id = conn.execute(select(t.c.owner_id).where(t.c.id == top)).scalar_one()
    world.crm.delete(world.ctx(world.data.owner), "contact", top)
    users = crm_models.User.__table__
    with world.crm.engine.connect() as conn:
        owner_team = conn.execute(select(users.c.team_id).where(users.c.id == owner_id)).scalar()
        rows = conn.execute(
            select(users.c.username, users.c.roles).where(
                users.c.active.is_(True), users.c.team_id != owner_team, users.c.id != owner_id
            )
        ).all()
    stranger = next(r.username for r in rows if "sales_rep" in (r.roles or ()))
    created = world.crm.create(
        world.ctx(stranger), "contact", {"first_name": "Lena", "last_name": "Berg"}
    )
    assert created["id"] == top  # the id came back
    history = world.crm.history(world.ctx(stranger), "contact", top)
    assert [e.action for e in history.entries] == ["create"]
    full = world.crm.history(world.ctx(world.data.owner), "contact", top)
    assert [e.action for e in full.entries] == ["delete", "create"]
