"""Every read path goes through the same scope: no path reveals what the list hides."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import insert, select

import crm_models
from crmguard.service import AccessDenied
from tests.crmguard.world import World


def _all_listed(world: World, username: str) -> set[int]:
    ctx = world.ctx(username)
    ids: set[int] = set()
    page = 1
    while True:
        result = world.crm.list(ctx, "contact", page=page, page_size=500)
        ids |= {r["id"] for r in result.items}
        if page * 500 >= result.total:
            return ids
        page += 1


def _owners(world: World) -> dict[int, int]:
    t = crm_models.Contact.__table__
    with world.crm.engine.connect() as conn:
        return dict(conn.execute(select(t.c.id, t.c.owner_id)).all())  # type: ignore[arg-type]


def _team_of(world: World) -> dict[int, int | None]:
    t = crm_models.User.__table__
    with world.crm.engine.connect() as conn:
        return dict(conn.execute(select(t.c.id, t.c.team_id)).all())  # type: ignore[arg-type]


def test_rep_sees_exactly_own_contacts(world: World) -> None:
    rep = world.data.rep_same_team
    rep_id = world.crm.principal(rep).user_id
    expected = {cid for cid, owner in _owners(world).items() if owner == rep_id}
    assert expected, "the seeded rep should own contacts"
    assert _all_listed(world, rep) == expected


def test_manager_sees_exactly_team_contacts(world: World) -> None:
    manager = world.crm.principal(world.data.departing)
    teams = _team_of(world)
    expected = {c for c, o in _owners(world).items() if teams.get(o) == manager.team_id}
    listed = _all_listed(world, manager.username)
    assert listed == expected
    assert len(listed) > len({c for c, o in _owners(world).items() if o == manager.user_id})


def test_every_path_agrees_with_the_list(world: World) -> None:
    rep = world.data.rep_same_team
    listed = _all_listed(world, rep)
    assert len(listed) < 500, "the search below must be able to return every row"
    ctx = world.ctx(rep)
    out = io.StringIO()
    world.crm.export(ctx, "contact", out, fmt="csv")
    exported = {int(r["id"]) for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert exported == listed
    searched = {r["id"] for r in world.crm.search(ctx, "contact", "@", limit=500)}
    assert searched == listed
    hidden = sorted(set(_owners(world)) - listed)[:25]
    for cid in sorted(listed)[:10]:
        assert world.crm.view(ctx, "contact", cid)["id"] == cid
    for cid in hidden:
        with pytest.raises(crm_models.RecordNotFound):
            world.crm.view(ctx, "contact", cid)
        with pytest.raises(crm_models.RecordNotFound):
            world.crm.print_record(ctx, "contact", cid)


def test_related_includes_use_their_own_scope(world: World) -> None:
    rep = world.crm.principal(world.data.rep_same_team)
    other = world.crm.principal(world.data.rep_other_team)
    contact_id = sorted(_all_listed(world, rep.username))[0]
    deals = crm_models.Deal.__table__
    with world.crm.engine.begin() as conn:
        mine = conn.execute(
            insert(deals)
            .values(title="Mine", owner_id=rep.user_id, contact_id=contact_id)
            .returning(deals.c.id)
        ).scalar_one()
        theirs = conn.execute(
            insert(deals)
            .values(title="Theirs", owner_id=other.user_id, contact_id=contact_id)
            .returning(deals.c.id)
        ).scalar_one()
    viewed = world.crm.view(world.ctx(rep.username), "contact", contact_id, include=("deals",))
    included = {d["id"] for d in viewed["deals"]}
    assert mine in included
    assert theirs not in included
    assert all(d["owner_id"] == rep.user_id for d in viewed["deals"])
    entry = next(world.crm.ledger.entries(actor=rep.username, action="view", newest_first=True))
    assert theirs not in entry.details["included"]["deals"]


def test_support_sees_all_contacts_masked_and_cannot_export(world: World) -> None:
    ctx = world.ctx(world.data.support)
    page = world.crm.list(ctx, "contact", page_size=50)
    assert page.total == len(_owners(world))
    assert all(r["email"] == "[masked]" and r["phone"] == "[masked]" for r in page.items)
    assert all(r["last_name"] != "[masked]" for r in page.items)
    with pytest.raises(AccessDenied):
        world.crm.export(ctx, "contact", io.StringIO())
    denied = list(world.crm.ledger.entries(actor=world.data.support, action="export"))
    assert [e.outcome for e in denied] == ["denied"]


def test_cross_team_view_is_denied_and_recorded(world: World) -> None:
    other = world.data.rep_other_team
    manager = world.crm.principal(world.data.departing)
    target = next(c for c, o in _owners(world).items() if o == manager.user_id)
    with pytest.raises(crm_models.RecordNotFound):
        world.crm.view(world.ctx(other), "contact", target)
    entries = list(world.crm.ledger.entries(actor=other, record_id=target))
    assert len(entries) == 1
    assert entries[0].outcome == "denied" and entries[0].action == "view"


def test_jsonl_export_round_trips(world: World) -> None:
    ctx = world.ctx(world.data.rep_same_team)
    out = io.StringIO()
    result = world.crm.export(ctx, "contact", out, fmt="jsonl")
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == result.count
    assert set(rows[0]) == set(crm_models.resource("contact").fields)
    entry = next(world.crm.ledger.entries(actor=ctx.principal.username, action="export"))
    assert sorted(entry.record_ids) == sorted(r["id"] for r in rows)
    assert entry.count == result.count and entry.seq == result.ledger_seq
