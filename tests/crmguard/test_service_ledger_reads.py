"""The ledger's own reads honour the reader's scope: own, team or all, never more."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

import policies
from access import AccessControl
from audit import AuditEvent
from crmguard.service import AccessDenied, GuardedCRM, InvalidInput, operator_context
from tests.crmguard.world import World


def _own_contact(world: World, username: str) -> int:
    items = world.crm.list(world.ctx(username), "contact", page_size=1).items
    assert items, f"{username} should own a contact"
    return int(items[0]["id"])


def _busy_ledger(world: World) -> dict[str, int]:
    """The owner searches and views; a rep and a rep of another team view their own."""
    d = world.data
    owner_contact = _own_contact(world, d.rep_other_team)
    world.crm.search(world.ctx(d.owner), "contact", "Kowalski")
    world.crm.view(world.ctx(d.owner), "contact", owner_contact)
    mine = _own_contact(world, d.rep_same_team)
    world.crm.view(world.ctx(d.rep_same_team), "contact", mine)
    world.crm.view(world.ctx(d.rep_other_team), "contact", owner_contact)
    return {"mine": mine, "theirs": owner_contact}


def test_rep_reads_only_own_events_whatever_the_filter(world: World) -> None:
    ids = _busy_ledger(world)
    rep = world.data.rep_same_team
    ctx = world.ctx(rep)
    everything = world.crm.audit_entries(ctx, limit=None)
    assert everything.scope == "own"
    assert everything.entries and {e.actor for e in everything} == {rep}
    # Another user's activity, a record someone else viewed: nothing of theirs comes back.
    assert not world.crm.audit_entries(ctx, actor=world.data.owner).entries
    assert not world.crm.audit_entries(ctx, action="search").entries
    assert not world.crm.audit_entries(ctx, record=f"contact:{ids['theirs']}").entries
    mine = world.crm.audit_entries(ctx, record=f"contact:{ids['mine']}").entries
    assert mine and {e.actor for e in mine} == {rep}
    # The unscoped truth: the others' events are there.
    actors = {e.actor for e in world.crm.ledger.entries(record_id=ids["theirs"])}
    assert actors == {world.data.owner, world.data.rep_other_team}


def test_a_record_question_keeps_to_scope_with_the_index_mark_moved_back(
    world: World,
) -> None:
    """Someone with the database moves the record index's mark back, so rows past it
    and entries matched one by one overlap: a rep still gets only their own reads of a
    record, and the owner each entry once."""
    ids = _busy_ledger(world)
    d = world.data
    world.crm.ledger.index_records()
    with world.crm.ledger.engine.begin() as conn:
        conn.execute(text("UPDATE audit_index_progress SET indexed_upto = 1 WHERE id = 1"))
    rep = world.ctx(d.rep_same_team)
    assert not world.crm.audit_entries(rep, record=f"contact:{ids['theirs']}").entries
    mine = world.crm.audit_entries(rep, record=f"contact:{ids['mine']}").entries
    assert mine and {e.actor for e in mine} == {d.rep_same_team}
    seen = world.crm.audit_entries(world.ctx(d.owner), record=f"contact:{ids['theirs']}")
    seqs = [e.seq for e in seen.entries]
    assert len(seqs) == len(set(seqs)) >= 2
    assert {e.actor for e in seen.entries} >= {d.owner, d.rep_other_team}


def test_admin_with_own_scope_cannot_read_the_owners_searches(world: World) -> None:
    _busy_ledger(world)
    admin = world.ctx(world.data.admin)
    assert not world.crm.audit_entries(admin, action="search").entries
    assert not world.crm.audit_entries(admin, actor=world.data.owner).entries
    owner_view = world.crm.audit_entries(world.ctx(world.data.owner), action="search")
    assert owner_view.scope == "all"
    assert [e.details["text"] for e in owner_view] == ["Kowalski"]


def test_ledger_export_needs_export_on_audit(world: World) -> None:
    _busy_ledger(world)
    for user in (world.data.rep_same_team, world.data.admin, world.data.head_of_sales):
        out = io.StringIO()
        with pytest.raises(AccessDenied):
            world.crm.audit_export(world.ctx(user), out)
        assert out.getvalue() == ""
        denied = list(world.crm.ledger.entries(actor=user, action="export", resource="audit"))
        assert [e.outcome for e in denied] == ["denied"]
    out = io.StringIO()
    count = world.crm.audit_export(world.ctx(world.data.auditor), out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(lines) and {x["actor"] for x in lines} > {world.data.owner}
    assert lines[-1]["action"] == "export" and lines[-1]["actor"] == world.data.auditor


def test_team_scope_reads_the_team_members_events(world: World, tmp_path: Path) -> None:
    policy_dir = tmp_path / "policies"
    shutil.copytree(policies.DEFAULT_DIR, policy_dir)
    with (policy_dir / "policy.csv").open("a") as fh:
        fh.write("p, sales_manager, audit, audit.read, team, allow\n")
        fh.write("p, sales_manager, audit, export, team, allow\n")
    crm = GuardedCRM(world.crm.engine, AccessControl.from_dir(policy_dir), world.crm.ledger)
    _busy_ledger(world)
    manager = world.data.departing
    ctx = world.ctx(manager)
    seen = {e.actor for e in crm.audit_entries(ctx, limit=None)}
    assert world.data.rep_same_team in seen
    assert not seen & {world.data.rep_other_team, world.data.owner}
    out = io.StringIO()
    crm.audit_export(ctx, out)
    exported = {json.loads(line)["actor"] for line in out.getvalue().splitlines()}
    assert exported == seen | {manager}


def test_verify_gives_every_reader_the_whole_chain_verdict(world: World) -> None:
    _busy_ledger(world)
    rep = world.ctx(world.data.rep_same_team)
    head = world.crm.ledger.head()
    assert head is not None
    result = world.crm.audit_verify(rep)
    assert result.ok and result.checked == head[0]
    event = next(world.crm.ledger.entries(actor=rep.principal.username, newest_first=True))
    assert event.details["kind"] == "verify" and event.details["scope"] == "own"
    inactive = world.data.inactive_users[0]
    with pytest.raises(AccessDenied):
        world.crm.audit_verify(world.ctx(inactive))
    assert [e.outcome for e in world.crm.ledger.entries(actor=inactive)] == ["denied"]


def test_the_operator_reads_everything_and_is_recorded(world: World) -> None:
    _busy_ledger(world)
    op = operator_context("tester")
    page = world.crm.audit_entries(op, limit=None)
    assert page.scope == "all" and {world.data.owner, world.data.rep_same_team} <= {
        e.actor for e in page
    }
    last = next(world.crm.ledger.entries(newest_first=True))
    assert last.actor == "operator:tester" and last.action == "audit.read"


def test_limit_says_when_it_cut_the_answer(world: World) -> None:
    _busy_ledger(world)
    owner = world.ctx(world.data.owner)
    cut = world.crm.audit_entries(owner, action="view", limit=1)
    assert len(cut) == 1 and cut.truncated
    whole = world.crm.audit_entries(owner, action="view", limit=100)
    assert not whole.truncated and len(whole) == 3


@pytest.mark.parametrize(
    ("filters", "needle"),
    [
        ({"record": "42"}, "RESOURCE:ID"),
        ({"record": "spaceship:1"}, "unknown resource 'spaceship'"),
        ({"action": "vew"}, "unknown action 'vew'"),
        ({"resource": "contcat"}, "unknown resource 'contcat'"),
        ({"outcome": "maybe"}, "unknown outcome 'maybe'"),
    ],
)
def test_filters_that_can_never_match_are_refused(
    world: World, filters: dict[str, str], needle: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        world.crm.audit_entries(operator_context("tester"), **filters)  # type: ignore[arg-type]
    assert needle in str(err.value)
    assert "known:" in str(err.value) or "e.g. contact:42" in str(err.value)


def test_actions_written_by_other_rooms_are_accepted(world: World) -> None:
    world.crm.ledger.append(AuditEvent("system:daemon", "report.weekly", "digest", (), 0))
    world.crm.ledger.append(AuditEvent("system:daemon", "report.weekly", "digest", (3,), 1))
    op = operator_context("tester")
    found = world.crm.audit_entries(op, action="report.weekly", resource="digest")
    assert [e.actor for e in found] == ["system:daemon", "system:daemon"]
    assert len(world.crm.audit_entries(op, record="digest:3")) == 1


def test_activity_from_the_day_totals_keeps_to_the_readers_scope(
    world: World, tmp_path: Path
) -> None:
    """A week of past work, summed into the day totals: a rep asking about a colleague or
    the owner gets nothing, a team reader gets their team's days only, the owner every
    day; each answer the same as counting the entries."""
    from datetime import UTC, datetime, timedelta

    from audit import Ledger, load_key_file, query

    d = world.data
    policy_dir = tmp_path / "policies"
    shutil.copytree(policies.DEFAULT_DIR, policy_dir)
    with (policy_dir / "policy.csv").open("a") as fh:
        fh.write("p, sales_manager, audit, audit.read, team, allow\n")
    clock = [datetime.now(UTC) - timedelta(days=8)]
    past = Ledger(world.crm.engine, load_key_file(tmp_path / "keys" / "ledger.key"),
                  clock=lambda: clock[0])  # fmt: skip
    crm = GuardedCRM(world.crm.engine, AccessControl.from_dir(policy_dir), past)
    for _ in range(7):
        for user in (d.rep_same_team, d.rep_other_team, d.owner):
            crm.list(world.ctx(user), "contact", page_size=5)
        clock[0] += timedelta(days=1)
    assert past.sum_days() > 0  # those days are summed

    # (each question is itself recorded, an audit.read of the reader's: not compared)
    def days(reader: str, actor: str) -> list[tuple[str, str, int]]:
        answer = crm.audit_activity(world.ctx(reader), actor)
        return [(x.day, x.action, x.events) for x in answer if x.action != "audit.read"]

    def truth(actor: str) -> list[tuple[str, str, int]]:
        counted = query.count_activity(world.crm.engine, actor, None, None, ())
        return [(x.day, x.action, x.events) for x in counted if x.action != "audit.read"]

    assert days(d.rep_same_team, d.rep_other_team) == []
    assert days(d.rep_same_team, d.owner) == []
    assert days(d.rep_same_team, d.rep_same_team) == truth(d.rep_same_team) != []
    assert days(d.departing, d.rep_same_team) == truth(d.rep_same_team)  # their team
    assert days(d.departing, d.rep_other_team) == []
    assert days(d.owner, d.rep_other_team) == truth(d.rep_other_team) != []
