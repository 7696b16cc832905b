"""The CLI contract others rely on: exit codes, JSON shapes, clear one-line errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.e2e.cli import run


def _one(users: dict[str, dict[str, object]], role: str, active: bool = True) -> str:
    return next(name for name, u in users.items() if role in u["roles"] and u["active"] is active)  # type: ignore[operator]


def test_users_list_json_shape(demo_users: dict[str, dict[str, object]]) -> None:
    assert len(demo_users) >= 50
    roles = {r for u in demo_users.values() for r in u["roles"]}  # type: ignore[attr-defined]
    assert {
        "owner",
        "admin",
        "security",
        "auditor",
        "head_of_sales",
        "sales_manager",
        "sales_rep",
        "support",
    } <= roles
    sample = next(iter(demo_users.values()))
    assert set(sample) == {"username", "display_name", "roles", "team", "active"}


def test_init_refuses_existing_home(demo_home: Path) -> None:
    result = run(demo_home, "init")
    assert result.returncode == 2
    assert "already holds a crmguard home" in result.stderr
    assert "--force" in result.stderr
    assert "Traceback" not in result.stderr


def test_access_check_allowed_and_denied(
    demo_home: Path, demo_users: dict[str, dict[str, object]]
) -> None:
    support = _one(demo_users, "support")
    result = run(demo_home, "access", "check", support, "view", "contact", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["allowed"] is True and data["scope"] == "all"
    assert set(data["masked_fields"]) == {"email", "phone"}
    assert {"allowed", "rule", "scope", "masked_fields", "limit"} <= set(data)

    result = run(demo_home, "access", "check", support, "export", "contact", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["allowed"] is False

    rep = _one(demo_users, "sales_rep")
    result = run(demo_home, "access", "check", rep, "export", "contact", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["scope"] == "own" and isinstance(data["limit"], int)


def test_access_check_record_outside_scope(
    demo_home: Path, demo_users: dict[str, dict[str, object]]
) -> None:
    rep = _one(demo_users, "sales_rep")
    listed = run(demo_home, "contacts", "list", "--as", rep, "--json", "--page-size", "500")
    own = {r["id"] for r in json.loads(listed.stdout)["items"]}
    other = next(i for i in range(1, 2001) if i not in own)
    result = run(demo_home, "access", "check", rep, "view", f"contact:{other}", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["allowed"] is False
    mine = sorted(own)[0]
    result = run(demo_home, "access", "check", rep, "view", f"contact:{mine}", "--json")
    assert result.returncode == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("access", "check", "nobody.here", "view", "contact"), "unknown user"),
        (("access", "check", "{rep}", "exprot", "contact"), "exprot"),
        (("access", "check", "{rep}", "view", "spaceship"), "spaceship"),
    ],
)
def test_access_check_bad_input_exits_2(
    demo_home: Path, demo_users: dict[str, dict[str, object]], args: tuple[str, ...], needle: str
) -> None:
    rep = _one(demo_users, "sales_rep")
    result = run(demo_home, *(a.replace("{rep}", rep) for a in args))
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def test_contacts_export_is_audited(
    demo_home: Path, demo_users: dict[str, dict[str, object]], tmp_path: Path
) -> None:
    rep = _one(demo_users, "sales_rep")
    out = tmp_path / "mine.jsonl"
    result = run(
        demo_home, "contacts", "export", "--as", rep, "--format", "jsonl", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    log = run(
        demo_home, "audit", "log", "--actor", rep, "--action", "export", "--json", "--limit", "1"
    )
    entry = json.loads(log.stdout.splitlines()[0])
    assert entry["channel"] == "cli" and entry["outcome"] == "allowed"
    assert sorted(entry["record_ids"]) == sorted(r["id"] for r in rows)


def test_support_export_denied_writes_nothing(
    demo_home: Path, demo_users: dict[str, dict[str, object]], tmp_path: Path
) -> None:
    support = _one(demo_users, "support")
    out = tmp_path / "leak.csv"
    result = run(demo_home, "contacts", "export", "--as", support, "--out", str(out))
    assert result.returncode == 1
    assert "denied" in result.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".leak.csv*"))


def test_audit_verify_and_export_contract(demo_home: Path, tmp_path: Path) -> None:
    result = run(demo_home, "audit", "verify", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["checked"] > 100
    # The contract's four keys, plus the diagnosis and how far the anchors reach.
    assert set(data) == {
        "ok", "checked", "first_bad_seq", "problem", "kind", "anchored_seq", "head_seq", "notes",
    }  # fmt: skip
    assert data["kind"] is None and data["anchored_seq"] >= 1

    out = tmp_path / "ledger.jsonl"
    result = run(demo_home, "audit", "export", "--format", "jsonl", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert set(lines[0]) == {
        "seq",
        "ts",
        "actor",
        "action",
        "resource",
        "record_ids",
        "count",
        "outcome",
        "channel",
        "ip",
        "request_id",
        "details",
        "prev_hash",
        "hash",
    }
    assert lines[0]["ts"].endswith("Z")
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(lines))
    # The export itself is recorded, and is the last line of what it exported.
    assert lines[-1]["action"] == "export" and lines[-1]["resource"] == "audit"

    since = lines[len(lines) // 2]["ts"]
    part = tmp_path / "part.jsonl"
    run(demo_home, "audit", "export", "--since", since, "--out", str(part))
    part_lines = [json.loads(x) for x in part.read_text().splitlines()]
    assert part_lines and all(x["ts"] >= since for x in part_lines)
    assert len(part_lines) < len(lines)


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "users",
        "list",
        env={"CRMGUARD_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"},
    )
    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_home_tells_what_to_do(tmp_path: Path) -> None:
    result = run(tmp_path / "none", "contacts", "list", "--as", "someone")
    assert result.returncode == 2
    assert "crmguard init" in result.stderr


def test_malformed_policy_names_file_and_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "init").returncode == 0
    policy = home / "policies" / "policy.csv"
    lines = policy.read_text().splitlines()
    lines.append("p, sales_rep, contact, exprot, own, allow")
    policy.write_text("\n".join(lines) + "\n")
    result = run(home, "access", "check", "anyone", "view", "contact")
    assert result.returncode == 2
    assert f"policy.csv line {len(lines)}" in result.stderr
    assert "exprot" in result.stderr
    assert "Traceback" not in result.stderr
