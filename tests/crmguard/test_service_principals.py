"""Resolving who asks: an unknown name is refused and the attempt is recorded."""

from __future__ import annotations

import io

import pytest

from crmguard.errors import UnknownUser
from crmguard.service import AccessDenied
from tests.crmguard.world import World


def test_unknown_claimed_name_is_refused_and_recorded(world: World) -> None:
    with pytest.raises(UnknownUser) as err:
        world.crm.context_for("no.such.user", channel="cli", os_user="mallory")
    assert "no.such.user" in str(err.value)
    entry = next(world.crm.ledger.entries(newest_first=True))
    assert (entry.actor, entry.action, entry.resource, entry.outcome) == (
        "operator:mallory",
        "act_as",
        "user",
        "denied",
    )
    assert entry.record_ids == ("no.such.user",) and entry.channel == "cli"
    assert entry.details == {"claimed": "no.such.user", "reason": "unknown user"}
    found = world.crm.ledger.entries(record_id="no.such.user", record_resource="user")
    assert [e.seq for e in found] == [entry.seq]


def test_a_huge_claimed_name_is_cut_not_lost(world: World) -> None:
    with pytest.raises(UnknownUser):
        world.crm.context_for("x" * 5000, channel="api", ip="10.0.0.9")
    entry = next(world.crm.ledger.entries(newest_first=True))
    assert entry.actor == "unknown" and entry.ip == "10.0.0.9"
    assert entry.record_ids == ("x" * 200,)


def test_a_known_name_is_resolved_without_an_event(world: World) -> None:
    ctx = world.crm.context_for(world.data.rep_same_team, channel="cli", os_user="ops")
    assert ctx.principal.username == world.data.rep_same_team and not ctx.operator
    assert world.crm.ledger.head() is None


def test_the_os_user_behind_a_claimed_name_is_in_every_event(world: World) -> None:
    """``--as`` is taken on trust from whoever holds the home: the ledger also says who ran it."""
    ctx = world.crm.context_for(world.data.owner, channel="cli", os_user="ops")
    assert ctx.os_user == "ops"
    world.crm.search(ctx, "contact", "a", limit=5)
    allowed = next(world.crm.ledger.entries(newest_first=True))
    assert (allowed.actor, allowed.action, allowed.outcome) == (
        world.data.owner,
        "search",
        "allowed",
    )
    assert allowed.details["os_user"] == "ops"

    support = world.crm.context_for(world.data.support, channel="cli", os_user="ops")
    with pytest.raises(AccessDenied):
        world.crm.export(support, "contact", io.StringIO())
    denied = next(world.crm.ledger.entries(newest_first=True))
    assert (denied.actor, denied.outcome) == (world.data.support, "denied")
    assert denied.details["os_user"] == "ops"


def test_a_context_without_an_os_user_records_none(world: World) -> None:
    ctx = world.crm.context_for(world.data.owner, channel="api", ip="10.0.0.7")
    world.crm.search(ctx, "contact", "a", limit=5)
    entry = next(world.crm.ledger.entries(newest_first=True))
    assert entry.ip == "10.0.0.7" and "os_user" not in entry.details
