"""Score detection on a generated company: per scenario detected or not and how fast, and
false alerts per 100 user-days after the learning period.

An alert is the leak's when it names the scenario's user between the first malicious
event and the end of the detection window; every other alert raised after the learning
period is false. User-days count the days each user was active (an idle day cannot
produce a false alert, so counting it would flatter the rate).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.engine import DetectionEngine
from alerts.evaluation.company import Company, Scenario
from alerts.model import Finding
from alerts.replay import event_from_json
from alerts.rules import Rules

#: Alerts about a leak's user this long after its window are follow-ups of the same leak.
FOLLOW_UP = timedelta(days=1)


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    detected: bool
    delay: timedelta | None
    rule: str | None


@dataclass(frozen=True)
class Score:
    results: list[ScenarioResult]
    false_alerts: list[Finding]
    user_days: int
    events: int

    @property
    def false_per_100(self) -> float:
        return 100.0 * len(self.false_alerts) / self.user_days if self.user_days else 0.0

    @property
    def all_detected(self) -> bool:
        return all(r.detected for r in self.results)


def findings_of(company: Company, rules: Rules) -> list[Finding]:
    """Run the engine over the company's events (its own JSON form, as a replay would)."""
    engine = DetectionEngine(rules)
    out: list[Finding] = []
    for raw in company.events:
        out.extend(engine.process(event_from_json(raw)))
    return out


def score(company: Company, findings: Iterable[Finding]) -> Score:
    raised = [f for f in findings if not f.escalation]
    learned = company.start + timedelta(days=company.learning_days)
    results = []
    for s in company.scenarios:
        lo = s.detect_from or s.attack_from
        hit = [
            f for f in raised
            if f.user == s.user and lo <= f.ts <= s.start + s.window and f.rule not in s.not_by
        ]  # fmt: skip
        first = min(hit, key=lambda f: f.ts) if hit else None
        delay = max(first.ts - s.start, timedelta(0)) if first else None
        results.append(ScenarioResult(s, first is not None, delay, first.rule if first else None))
    false = [
        f
        for f in raised
        if f.ts >= learned
        and not any(
            f.user == s.user and s.attack_from <= f.ts <= _end(s) for s in company.scenarios
        )
    ]
    days: set[tuple[str, str]] = set()
    for ev in company.events:
        if ev["ts"] >= learned.strftime("%Y-%m-%dT%H:%M:%S"):
            days.add((ev["actor"], ev["ts"][:10]))
    return Score(results, false, len(days), len(company.events))


def _end(s: Scenario) -> datetime:
    """Until when the user's alerts belong to the leak: its window or its last event, and a
    day of follow-ups (the same incident, seen again by another rule)."""
    return max(s.start + s.window, s.attack_to or s.start) + FOLLOW_UP


def report(sc: Score, verbose: bool = False) -> str:
    lines = []
    for r in sc.results:
        s = r.scenario
        if r.detected and r.delay is not None:
            ok = "detected" if r.delay <= s.window else "LATE"
            lines.append(f"  {s.name:32} {s.user:18} {ok} in {_fmt(r.delay)} "
                         f"(window {_fmt(s.window)}, rule {r.rule})")  # fmt: skip
        else:
            lines.append(f"  {s.name:32} {s.user:18} NOT DETECTED (window {_fmt(s.window)})")
    lines.append(
        f"  false alerts: {len(sc.false_alerts)} in {sc.user_days:,} user-days after the "
        f"learning period = {sc.false_per_100:.2f} per 100 user-days ({sc.events:,} events)"
    )
    if verbose:
        for f in sc.false_alerts:
            lines.append(f"    false: {f.ts:%Y-%m-%d %H:%M} {f.rule} {f.severity}: {f.summary}")
    return "\n".join(lines)


def _fmt(d: timedelta) -> str:
    s = d.total_seconds()
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"
