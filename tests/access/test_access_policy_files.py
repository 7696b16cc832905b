"""Malformed policy files fail loading with a message naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_helpers import write_policy

from access import AccessControl, PolicyError

GOOD = "p, rep, contact, view, own, allow\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("q, rep, contact, view, own, allow", "unknown rule type 'q'"),
        ("p, rep, contact, view, own", "p rule needs 5 fields, got 4"),
        ("p, rep, contact, view, own, allow, extra", "p rule needs 5 fields, got 6"),
        ("p2, rep, contact", "p2 rule needs 3 fields, got 2"),
        ("p, rep, contact, exprot, own, allow", "unknown action 'exprot' (known: audit.read"),
        ("p, rep, contacts, view, own, allow", "unknown resource 'contacts' (known: activity"),
        ("p, rep, contact, view, mine, allow", "unknown scope 'mine'"),
        ("p, rep, contact, view, own, permit", "unknown effect 'permit'"),
        ("p, rep, contact, view, none, allow", "an allow rule needs scope own, team or all"),
        ("p3, rep, lots", "export cap must be a whole number of rows or 'unlimited', not 'lots'"),
        ("p3, rep, -5", "export cap must not be negative"),
        ("p3, rep, 10, lots", "read budget must be a whole number of rows or 'unlimited'"),
        ("p3, rep, 10, -1", "read budget must not be negative, got -1"),
        ("p3, rep, 10, 20, 30", "p3 rule needs 2 or 3 fields, got 4"),
        ("p3, rep", "p3 rule needs 2 or 3 fields, got 1"),
        ("p2, rep, contact, salary", "resource 'contact' has no field 'salary' to mask"),
        ("p2, rep, audit, actor", "resource 'audit' has no field 'actor'"),
        ("p, rep team, contact, view, own, allow", "invalid role or user name 'rep team'"),
        ("g, rep, rep", "role 'rep' cannot inherit itself"),
        ("p, rep, *, *, none, deny", "a deny rule for every action on every resource"),
    ],
)
def test_bad_policy_line_names_file_and_line(policy_dir: Path, line: str, message: str) -> None:
    path = write_policy(policy_dir, f"# header\n{GOOD}\n{line}\n")
    with pytest.raises(PolicyError) as info:
        AccessControl.from_dir(policy_dir)
    text = str(info.value)
    assert text.startswith(f"{path} line 4: "), text
    assert message in text
    assert "\n" not in text
    assert info.value.line == 4 and info.value.exit_code == 2


def test_exporting_role_without_cap_is_refused(policy_dir: Path) -> None:
    write_policy(policy_dir, GOOD + "p, rep, contact, export, own, allow\n")
    with pytest.raises(PolicyError, match=r"line 2: role 'rep' may export but has no export cap"):
        AccessControl.from_dir(policy_dir)


def test_second_cap_for_role_is_refused(policy_dir: Path) -> None:
    write_policy(policy_dir, "p3, rep, 10\np3, rep, 20\n")
    with pytest.raises(PolicyError, match=r"line 2: second export cap for role 'rep' \(first on"):
        AccessControl.from_dir(policy_dir)


def test_missing_files(tmp_path: Path, policy_dir: Path) -> None:
    with pytest.raises(PolicyError, match=r"model\.conf: file not found"):
        AccessControl.from_dir(tmp_path / "nowhere")
    (policy_dir / "policy.csv").unlink()
    with pytest.raises(PolicyError, match=r"policy\.csv: file not found"):
        AccessControl.from_dir(policy_dir)


MODEL_OK = (Path(__file__).parents[2] / "policies" / "model.conf").read_text()


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("this is not a model", "malformed model"),
        (MODEL_OK.replace("p2 = sub, obj, field\n", ""), "must declare 'p2 = sub, obj, field'"),
        (MODEL_OK.replace("r = sub, obj, act", "r = sub, obj"), "must declare 'r = sub, obj, act'"),
        (
            MODEL_OK.replace("p3 = sub, cap, budget", "p3 = sub, cap, x"),
            "must declare 'p3 = sub, cap, budget'",
        ),
        (MODEL_OK.replace("[matchers]", "[nothing]"), "missing [matchers]"),
        (MODEL_OK.replace("[role_definition]\ng = _, _", ""), "missing [role_definition]"),
        # a matcher that ignores the action would grant far more than the table: refused
        (MODEL_OK.replace('&& (p.act == "*" || r.act == p.act)', ""), "disagrees"),
        # an effect without the deny clause would let allows beat explicit denies: refused
        (MODEL_OK.replace(" && !some(where (p.eft == deny))", ""), "disagrees"),
        (MODEL_OK.replace("g(r.sub, p.sub)", "nosuch(r.sub, p.sub)"), "model.conf"),
    ],
)
def test_bad_model_conf(policy_dir: Path, model: str, message: str) -> None:
    (policy_dir / "model.conf").write_text(model)
    with pytest.raises(PolicyError) as info:
        AccessControl.from_dir(policy_dir)
    assert str(info.value).startswith(str(policy_dir / "model.conf"))
    assert message in str(info.value)


def test_model_without_read_budget_still_loads(policy_dir: Path) -> None:
    # homes initialised before read budgets have "p3 = sub, cap" in their model.conf
    (policy_dir / "model.conf").write_text(
        MODEL_OK.replace("p3 = sub, cap, budget", "p3 = sub, cap")
    )
    control = AccessControl.from_dir(policy_dir)
    assert "sales_rep" in control.roles


def test_comments_and_blank_lines_are_ignored(policy_dir: Path) -> None:
    write_policy(policy_dir, "# only a comment\n\n   \n  # indented comment\n" + GOOD)
    control = AccessControl.from_dir(policy_dir)
    assert control.roles == frozenset({"rep"})
    assert control.policy.rule_lines == {"p, rep, contact, view, own, allow": 5}
