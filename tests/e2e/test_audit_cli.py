"""The ledger through the CLI as an insider would try it: scope, bad input, what is recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli import run

Users = dict[str, dict[str, object]]


def _one(users: Users, role: str, skip: int = 0) -> str:
    names = [n for n, u in users.items() if role in u["roles"] and u["active"]]  # type: ignore[operator]
    return sorted(names)[skip]


def _log(home: Path, *args: str) -> list[dict[str, Any]]:
    result = run(home, "audit", "log", "--json", "--limit", "100000", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_rep_reads_only_own_events_by_every_path(
    demo_home: Path, demo_users: Users, tmp_path: Path
) -> None:
    rep, owner = _one(demo_users, "sales_rep"), _one(demo_users, "owner")
    assert run(demo_home, "contacts", "search", "a", "--as", owner).returncode == 0
    others = [e for e in _log(demo_home) if e["actor"] not in (rep,) and e["record_ids"]]
    assert others, "the demo ledger should hold other users' events"
    mine = _log(demo_home, "--as", rep)
    assert mine and {e["actor"] for e in mine} == {rep}
    assert _log(demo_home, "--as", rep, "--actor", owner) == []
    record = f"{others[-1]['resource']}:{others[-1]['record_ids'][0]}"
    assert all(e["actor"] == rep for e in _log(demo_home, "--as", rep, "--record", record))
    out = tmp_path / "ledger.jsonl"
    result = run(demo_home, "audit", "export", "--as", rep, "--out", str(out))
    assert result.returncode == 1 and "denied" in result.stderr and not out.exists()
    denied = _log(demo_home, "--actor", rep, "--action", "export", "--resource", "audit")
    assert denied and denied[0]["outcome"] == "denied"


def test_an_admin_cannot_read_the_owners_searches(demo_home: Path, demo_users: Users) -> None:
    owner, admin = _one(demo_users, "owner"), _one(demo_users, "admin")
    assert run(demo_home, "contacts", "search", "Smith", "--as", owner).returncode == 0
    assert _log(demo_home, "--as", admin, "--action", "search") == []
    searches = _log(demo_home, "--as", owner, "--action", "search", "--actor", owner)
    assert "Smith" in [e["details"].get("text") for e in searches]


def test_unknown_as_name_is_refused_and_recorded(demo_home: Path) -> None:
    result = run(demo_home, "audit", "log", "--as", "no.such.user")
    assert result.returncode == 2 and "unknown user 'no.such.user'" in result.stderr
    result = run(demo_home, "contacts", "list", "--as", "no.such.user")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    recorded = _log(demo_home, "--record", "user:no.such.user", "--action", "act_as")
    assert len(recorded) >= 2
    assert all(e["outcome"] == "denied" and e["actor"].startswith("operator:") for e in recorded)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--record", "42"), "RESOURCE:ID"),
        (("--record", "spaceship:1"), "unknown resource 'spaceship'"),
        (("--action", "vew"), "unknown action 'vew'"),
        (("--resource", "contcat"), "unknown resource 'contcat'"),
        (("--outcome", "maybe"), "unknown outcome 'maybe'"),
    ],
)
def test_log_filters_that_cannot_match_exit_2(
    demo_home: Path, args: tuple[str, ...], needle: str
) -> None:
    result = run(demo_home, "audit", "log", *args)
    assert result.returncode == 2, result.stdout
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_log_says_when_the_limit_cut_the_answer(demo_home: Path) -> None:
    result = run(demo_home, "audit", "log", "--limit", "2", "--json")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2
    assert "more match" in result.stderr
    result = run(demo_home, "audit", "log", "--action", "act_as", "--limit", "100000")
    assert "more match" not in result.stderr


def test_view_with_included_company_is_found_by_company(demo_home: Path, demo_users: Users) -> None:
    head = _one(demo_users, "head_of_sales")
    for contact_id in range(1, 50):
        result = run(
            demo_home, "contacts", "view", str(contact_id), "--include", "company", "--as", head
        )
        assert result.returncode == 0, result.stderr
        row = json.loads(result.stdout)
        if row.get("company"):
            break
    company_id = row["company"]["id"]
    found = _log(demo_home, "--record", f"company:{company_id}", "--actor", head)
    assert found and found[0]["action"] == "view" and found[0]["resource"] == "contact"
    assert f"company:{company_id}" in found[0]["record_ids"]
    assert found[0]["record_ids"][0] == contact_id


def test_access_questions_and_user_lists_are_recorded(demo_home: Path, demo_users: Users) -> None:
    rep = _one(demo_users, "sales_rep")
    assert run(demo_home, "access", "check", rep, "view", "contact").returncode == 0
    assert run(demo_home, "access", "explain", rep, "view", "contact:1").returncode == 0
    for action in ("access.check", "access.explain"):
        asked = _log(demo_home, "--action", action, "--record", f"user:{rep}")
        assert asked and asked[0]["actor"].startswith("operator:")
    listed = run(demo_home, "users", "list", "--as", rep, "--json")
    assert listed.returncode == 0, listed.stderr
    team = demo_users[rep]["team"]
    seen = json.loads(listed.stdout)
    assert seen and {u["team"] for u in seen} == {team}
    assert len(seen) < len(demo_users)
    recorded = _log(demo_home, "--actor", rep, "--action", "list", "--resource", "user")
    assert sorted(recorded[0]["record_ids"]) == sorted(u["username"] for u in seen)


def test_restrict_lift_through_the_service(demo_home: Path, demo_users: Users) -> None:
    target = _one(demo_users, "sales_rep", skip=1)
    security, manager = _one(demo_users, "security"), _one(demo_users, "sales_manager")
    result = run(demo_home, "access", "restrict", target, "departing", "--by", manager)
    assert result.returncode == 1 and "denied" in result.stderr
    result = run(
        demo_home, "access", "restrict", target, "departing", "--by", security, "--reason", "x"
    )
    assert result.returncode == 0, result.stderr
    listed = run(demo_home, "access", "restrictions", target, "--json")
    restriction = json.loads(listed.stdout)[0]
    assert restriction["kind"] == "departing" and restriction["lifted_at"] is None
    assert run(demo_home, "access", "lift", str(restriction["id"])).returncode == 0
    events = _log(demo_home, "--action", "restrict", "--record", f"user:{target}")
    assert [e["outcome"] for e in events][:3] == ["allowed", "allowed", "denied"]
    assert events[0]["details"]["lifted"] == "departing"
    assert events[1]["details"]["restriction"] == "departing"
