"""The detection engine: events in, findings out, deterministically.

Event time is the only clock (a replay of last month behaves as last month did), and the
engine holds all its state in memory: the live daemon rebuilds it by replaying
:attr:`DetectionEngine.warmup` of the ledger before its cursor with findings suppressed,
so nothing needs persisting and a restart alerts neither twice nor never.

One active alert per (user, rule): the first signal raises it (a finding), later signals
update it silently, and only a rise in severity emits again (``escalation=True``). An
alert is closed by :meth:`DetectionEngine.close` (resolved by security staff) or when no
signal touched it for ``realert_after_hours``; the next signal then raises a new alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alerts.baseline import Baseline
from alerts.detectors import all_detectors
from alerts.detectors.interface import (
    EXFIL_ACTIONS,
    READ_ACTIONS,
    Context,
    Detector,
    Kind,
    Signal,
)
from alerts.model import SEVERITIES, Event, Finding, Severity, severity_rank
from alerts.rules import Rules


@dataclass
class _Active:
    severity: Severity
    first_ts: datetime
    last_t: float
    first_seq: int | None


class DetectionEngine:
    """Runs every detector over each event; see the module docstring for the contract."""

    def __init__(self, rules: Rules, peers: Mapping[str, str] | None = None) -> None:
        self._rules = rules
        self._baseline = Baseline(rules, peers)
        self._ctx = Context(rules, self._baseline)
        self._detectors = all_detectors()
        self._routes: dict[Kind, tuple[Detector, ...]] = {
            kind: tuple(d for d in self._detectors if kind in d.kinds)
            for kind in ("read", "denied", "other")
        }
        self._active: dict[tuple[str, str], _Active] = {}
        self._clock = float("-inf")

    # -- configuration -------------------------------------------------------------------

    @property
    def rules(self) -> Rules:
        return self._rules

    @rules.setter
    def rules(self, rules: Rules) -> None:
        """Swap in reloaded rules; learned state is kept, cached thresholds are not."""
        self._rules = rules
        self._baseline.rules = rules
        self._ctx.rules = rules
        for state in self._baseline.users.values():
            state.reset_cache()

    @property
    def warmup(self) -> timedelta:
        """History to replay at start so every baseline, window and look-back is whole."""
        lookback = int(self._rules.rule("departing")["lookback_days"])
        realert = self._rules.realert_after
        days = max(self._rules.history_days, lookback) + 1
        return max(timedelta(days=days), realert)

    # -- the stream ----------------------------------------------------------------------

    def process(self, event: Event) -> list[Finding]:
        """Findings raised (or escalated) by ``event``, in order; usually none."""
        ts = event.ts if event.ts.tzinfo is not None else event.ts.replace(tzinfo=UTC)
        t = ts.timestamp()
        if t < self._clock:
            t = self._clock  # a late event counts at the engine's time: windows only move on
        self._clock = t
        action = event.action
        state = None
        if event.outcome == "allowed":
            if action in READ_ACTIONS and event.resource in self._rules.resources:
                kind: Kind = "read"
                state = self._baseline.user(event.actor, t)
                n = len(event.record_ids) or event.count
                self._baseline.add_volume(
                    state, t, n, action if action in EXFIL_ACTIONS else None
                )
            else:
                kind = "other"
        elif event.outcome == "denied":
            kind = "denied"
        else:
            kind = "other"
        findings: list[Finding] = []
        for detector in self._routes[kind]:
            for signal in detector.observe(event, t, state, self._ctx):
                finding = self._decide(signal, event, t)
                if finding is not None:
                    findings.append(finding)
        if event.ip:
            known = state if state is not None else self._baseline.users.get(event.actor)
            if known is not None and event.ip not in known.ips:
                known.ips[event.ip] = t
        return findings

    def close(self, user: str, rule: str) -> None:
        """The alert was resolved: the next signal for (user, rule) raises a new alert."""
        self._active.pop((user, rule), None)

    def false_positive(self, user: str, rule: str) -> None:
        """Security staff judged the alert harmless: raise this user's bar for this rule."""
        self.close(user, rule)
        state = self._baseline.users.get(user)
        if state is None:
            return
        factor = self._rules.baseline["false_positive_factor"]
        state.fp[rule] = state.fp.get(rule, 1.0) * factor
        state.reset_cache()

    # -- signals to findings -------------------------------------------------------------

    def _severity(self, base: Severity, score: float) -> Severity:
        low, high = self._rules.escalate_at
        steps = (score >= low) + (score >= high)
        return SEVERITIES[min(severity_rank(base) + steps, len(SEVERITIES) - 1)]

    def _decide(self, signal: Signal, event: Event, t: float) -> Finding | None:
        if signal.score < 1.0:
            return None
        rule = self._rules.rules.get(signal.rule)
        if rule is None or not rule.enabled:
            return None
        severity = self._severity(rule.severity, signal.score)
        key = (signal.user, signal.rule)
        active = self._active.get(key)
        escalation = False
        if active is not None and t - active.last_t <= self._rules.realert_after.total_seconds():
            active.last_t = t
            if severity_rank(severity) <= severity_rank(active.severity):
                return None
            active.severity = severity
            escalation = True
        else:
            active = _Active(severity, signal.first_ts or event.ts, t, event.seq)
            self._active[key] = active
        evidence = dict(signal.evidence)
        evidence["seq_from"] = active.first_seq
        evidence["seq_to"] = event.seq
        return Finding(
            ts=event.ts,
            user=signal.user,
            rule=signal.rule,
            severity=severity,
            score=signal.score,
            summary=signal.summary,
            evidence=evidence,
            first_ts=active.first_ts,
            last_ts=event.ts,
            response=rule.response,
            escalation=escalation,
        )
