"""``--as USER`` is taken on trust from whoever holds the home, so every event it causes
also names the operating-system user who ran the command."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from tests.e2e.cli import run


def _one(users: dict[str, dict[str, object]], role: str) -> str:
    return next(n for n, u in users.items() if role in u["roles"] and u["active"])  # type: ignore[operator]


def _events(home: Path, out: Path) -> list[dict[str, object]]:
    result = run(home, "audit", "export", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_as_user_events_carry_the_os_user(
    demo_home: Path, demo_users: dict[str, dict[str, object]], tmp_path: Path
) -> None:
    owner = _one(demo_users, "owner")
    support = _one(demo_users, "support")
    searched = run(demo_home, "contacts", "search", "zz-os-user-probe", "--as", owner)
    assert searched.returncode == 0, searched.stderr
    refused = run(demo_home, "contacts", "export", "--as", support, "--out", str(tmp_path / "x"))
    assert refused.returncode == 1
    events = _events(demo_home, tmp_path / "ledger.jsonl")
    mine = [e for e in events if e["actor"] in (owner, support) and e["channel"] == "cli"]
    search = next(e for e in reversed(mine) if e["actor"] == owner and e["action"] == "search")
    denial = next(e for e in reversed(mine) if e["actor"] == support and e["action"] == "export")
    assert denial["outcome"] == "denied"
    for event in (search, denial):
        assert event["details"]["os_user"] == getpass.getuser()  # type: ignore[index]
    # The operator acting as itself is already named in the actor; no duplicate detail.
    operator = [e for e in events if str(e["actor"]).startswith("operator:")]
    assert operator and all("os_user" not in e["details"] for e in operator)  # type: ignore[operator]
