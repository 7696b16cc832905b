"""alerts/evaluation: the generator is seedable and realistic enough to score on, and the
detectors meet the targets on it (every leak in its window, <= 0.5 false alerts per 100
user-days after the learning period) on more than one company."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.evaluation.__main__ import main
from alerts.evaluation.generator import generate
from alerts.evaluation.scorer import findings_of, score
from alerts.rules import load_rules

WINDOWS = {
    "burst export": timedelta(minutes=5),
    "scraping": timedelta(minutes=30),
    "off-hours export, new address": timedelta(hours=1),
    "probing": timedelta(minutes=15),
    "drip": timedelta(days=3),
    "departing user": timedelta(days=1),
    "look-back": timedelta(days=1),
    "backup failed": timedelta(minutes=15),
    "policy edit rejected": timedelta(minutes=15),
}


def test_generator_is_deterministic_and_varied() -> None:
    a, b, c = generate(5, users=20, days=28), generate(5, users=20, days=28), generate(6, 20, 28)
    assert a.events == b.events
    assert a.events != c.events
    roles = set(a.roles.values())
    assert {"sales_rep", "support"} <= roles
    actors = {e["actor"] for e in a.events}
    assert "svc.sync" in actors and any(x.startswith("newhire") for x in actors)
    synced = sum(e["count"] for e in a.events if e["actor"] == "svc.sync")
    assert synced / 28 > 2000  # the integration account reads thousands of records a day
    assert [e["ts"] for e in a.events] == sorted(e["ts"] for e in a.events)
    assert {s.name for s in a.scenarios} == set(WINDOWS)
    assert all(s.window == WINDOWS[s.name] for s in a.scenarios)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "users"), [(1, 60), (2, 60), (13, 25)])
def test_targets_are_met(seed: int, users: int) -> None:
    rules = load_rules(None)
    company = generate(seed, users=users, days=42)
    result = score(company, findings_of(company, rules))
    missed = [
        r.scenario.name for r in result.results
        if not r.detected or r.delay is None or r.delay > r.scenario.window
    ]  # fmt: skip
    assert missed == []
    assert result.user_days > 500
    assert result.false_per_100 <= 0.5, [f.summary for f in result.false_alerts]


def test_too_short_a_company_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 28 days"):
        generate(1, users=20, days=14)


def test_command_line_reports_per_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--seed", "3", "--users", "30", "--days", "28"])
    out = capsys.readouterr().out
    assert "seed 3: 31 users, 28 days" in out
    for name in WINDOWS:
        assert name in out
    assert "false alerts:" in out and "per 100 user-days" in out
    assert code in (0, 1)


def test_sweep_prints_a_summary_per_scenario_and_size(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--seeds", "3-4", "--users", "12,14", "--days", "28", "--quiet"])
    out = capsys.readouterr().out
    assert "seed 3:" not in out  # --quiet: the summary only
    assert "summary: 4 companies" in out
    for name in WINDOWS:
        assert name in out
    assert "mean FP" in out and "worst FP" in out
    assert code in (0, 1)


def test_sweep_refuses_a_malformed_seed_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--seeds", "9-3"])
    assert exc.value.code == 2
    assert "empty seed range" in capsys.readouterr().err
