"""Resolving who asks: an unknown name is refused and the attempt is recorded."""

from __future__ import annotations

import pytest

from crmguard.errors import UnknownUser
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
