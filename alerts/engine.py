"""The detection engine: events in, findings out, deterministically.

Event time is the only clock (a replay of last month behaves as last month did), and the
engine holds all its state in memory: the live daemon rebuilds it by replaying
:attr:`DetectionEngine.warmup` of the ledger before its cursor with findings suppressed,
so nothing needs persisting and a restart alerts neither twice nor never.

One active alert per (user, rule): the first signal raises it (a finding), later signals
update it silently, and only a rise in severity emits again (``escalation=True``). When
one event crosses several rules for a user, one alert is raised (the most severe rule) and
the others are folded into it (``evidence["also"]``): they update and escalate that alert. An
alert is closed by :meth:`DetectionEngine.close` (resolved by security staff) or when no
signal touched it for ``realert_after_hours``; the next signal then raises a new alert.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from alerts.baseline import Baseline
from alerts.detectors import all_detectors
from alerts.detectors.interface import (
    READ_ACTIONS,
    Context,
    Detector,
    Kind,
    Signal,
)
from alerts.model import SEVERITIES, Event, Finding, Response, Severity, severity_rank
from alerts.read_path import Observe, ReadPath, ReadRoute
from alerts.rules import Rule, Rules

#: whatever a caller of :meth:`DetectionEngine.observe_fields` builds its Event from
L = TypeVar("L")


def _same(event: Event) -> Event:
    """The Event itself: :meth:`DetectionEngine.observe` passes the Event as its own line."""
    return event


@dataclass
class _Active:
    """An alert the engine considers open; ``alias`` points a folded rule to its alert."""

    severity: Severity
    first_ts: datetime
    last_t: float
    first_seq: int | None
    rule: str
    response: Response | None
    alias: tuple[str, str] | None = None


class DetectionEngine:
    """Runs every detector over each event; see the module docstring for the contract."""

    def __init__(self, rules: Rules, peers: Mapping[str, str] | None = None) -> None:
        self._rules = rules
        self._baseline = Baseline(rules, peers)
        self._ctx = Context(rules, self._baseline)
        self._detectors = all_detectors()
        self._read_path = ReadPath(self._detectors)
        self._read_path.configure(rules)
        for detector in self._detectors:
            detector.configure(rules)
        #: per kind of event and action: the ``observe`` of the detectors shown it
        self._routes: dict[Kind, dict[str, tuple[Observe, ...]]] = {
            "read": {}, "denied": {}, "other": {},
        }  # fmt: skip
        #: per (action, resource) of an allowed event: its read route (None: not a read)
        #: by action, then resource (two lookups by the line's own strings cost less
        #: than building, hashing and comparing a tuple of them for every event)
        self._reads: dict[str, dict[str, ReadRoute | None]] = {}
        self._active: dict[tuple[str, str], _Active] = {}
        self._clock = float("-inf")
        self._resources = rules.resources

    # -- configuration -------------------------------------------------------------------

    @property
    def rules(self) -> Rules:
        return self._rules

    @rules.setter
    def rules(self, rules: Rules) -> None:
        """Swap in reloaded rules; learned state is kept, cached thresholds are not."""
        self._rules = rules
        self._resources = rules.resources
        self._baseline.rules = rules
        for state in self._baseline.users.values():
            state.windows.reset_gates()
        self._ctx.rules = rules
        self._read_path.configure(rules)
        for detector in self._detectors:
            detector.configure(rules)
        self._reads = {}  # the resources counted, and the volume limits, may have changed

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
        return list(self.observe(event, ts.timestamp()))

    def observe(self, event: Event, t: float) -> Sequence[Finding]:
        """:meth:`process` for a caller that already has ``event.ts`` as seconds since the
        epoch (``t`` must be ``event.ts.timestamp()``): the replay's path, with nothing
        allocated for the usual event that raises nothing."""
        return self.observe_fields(
            t, event.actor, event.action, event.resource, event.outcome, event.record_ids,
            event.count, event.ip, event, _same,
        )  # fmt: skip

    def observe_fields(
        self,
        t: float,
        actor: str,
        action: str,
        resource: str,
        outcome: str,
        record_ids: Sequence[int | str],
        count: int,
        ip: str | None,
        line: L,
        build: Callable[[L], Event],
    ) -> Sequence[Finding]:
        """:meth:`observe` for a caller holding an event's fields rather than an Event
        (the replay's common line): ``build(line)`` makes the Event, and is called only
        when a detector is shown the event or a finding is made, which most reads never
        are; so ``build`` must give the Event these fields are of (``t`` its time), and
        may be asked for it more than once. The findings are :meth:`observe`'s."""
        read = None
        if outcome == "allowed":
            try:
                read = self._reads[action][resource]
            except KeyError:
                read = self._read_route(action, resource)
        if t < self._clock:
            t = self._clock  # a late event counts at the engine's time: windows only move on
        self._clock = t
        if read is None:
            return self._other(build(line), t)
        # a counted read: the baseline's counts, the read path, then the detectors of its
        # route (for a read that takes nothing out, only while they are not all quiet)
        n = len(record_ids) or count
        state = self._baseline.read(actor, t, n, read.exfil)
        ctx = self._ctx
        signals = self._read_path.observe(line, build, record_ids, t, state, n, read, ctx)
        quiet = read.quiet
        cache = state.cache
        run = quiet is None  # an export or a print: every detector of the route sees it
        if quiet is not None and state.windows.quiet is not cache:
            # asked first (the first read of a day, say: the detectors can tell from
            # the day's state alone, with no Event built), and again after the route
            if all(q(state, ctx) for q in quiet):
                state.windows.quiet = cache  # nothing to say on such reads today
            else:
                run = True
        if run:
            event = build(line)
            for observe in read.route:
                got = observe(event, t, state, ctx)
                if got:
                    signals = list(got) if signals is None else signals + list(got)
            if quiet is not None and all(q(state, ctx) for q in quiet):
                state.windows.quiet = cache
        findings = self._findings(signals, build(line), t) if signals else ()
        if ip and ip not in state.ips:
            state.ips[ip] = t
        return findings

    def _other(self, event: Event, t: float) -> Sequence[Finding]:
        """An event that is not a counted read (denied, failed, or no read at all): the
        detectors shown its kind and action."""
        action = event.action
        kind: Kind = "denied" if event.outcome == "denied" else "other"
        route = self._routes[kind].get(action)
        if route is None:
            route = self._route(kind, action)
        signals: list[Signal] | None = None
        ctx = self._ctx
        for observe in route:
            got = observe(event, t, None, ctx)
            if got:
                signals = list(got) if signals is None else signals + list(got)
        findings = self._findings(signals, event, t) if signals else ()
        ip = event.ip
        if ip:
            known = self._baseline.users.get(event.actor)
            if known is not None and ip not in known.ips:
                known.ips[ip] = t
        return findings

    def _findings(self, signals: list[Signal], event: Event, t: float) -> list[Finding]:
        """One event's signals as findings, user by user (signals under 1 are dropped)."""
        found: list[Finding] = []
        by_user: dict[str, list[Signal]] = {}
        for signal in signals:
            if signal.score >= 1.0:
                by_user.setdefault(signal.user, []).append(signal)
        for user, group in by_user.items():
            found.extend(self._decide(user, group, event, t))
        return found

    def _route(self, kind: Kind, action: str) -> tuple[Observe, ...]:
        """The ``observe`` of the detectors shown events of this kind and action (cached
        per pair)."""
        route = self._routes[kind][action] = tuple(d.observe for d in self._shown(kind, action))
        return route

    def _shown(self, kind: Kind, action: str) -> list[Detector]:
        """The detectors shown events of this kind and action, in their order; for a
        read, those the read path does not run."""
        return [
            d for d in self._detectors
            if kind in d.kinds and (d.actions is None or action in d.actions)
            and not (kind == "read" and d.read_path)
        ]  # fmt: skip

    def _read_route(self, action: str, resource: str) -> ReadRoute | None:
        """How an allowed (action, resource) is read (cached; None: not a counted read)."""
        read = None
        if action in READ_ACTIONS and resource in self._resources:
            read = self._read_path.route(action, resource, self._shown("read", action))
        self._reads.setdefault(action, {})[resource] = read
        return read

    def close(self, user: str, rule: str) -> None:
        """The alert was resolved: the next signal for (user, rule) raises a new alert.

        Rules that were folded into that alert (raised by the same event) close with it.
        """
        self._active.pop((user, rule), None)
        for key in [k for k, a in self._active.items() if a.alias == (user, rule)]:
            del self._active[key]

    def false_positive(self, user: str, rule: str) -> None:
        """Security staff judged the alert harmless: raise this user's bar for this rule
        (and for the rules folded into the alert), and close it."""
        folded = [k[1] for k, a in self._active.items() if a.alias == (user, rule)]
        self.close(user, rule)
        state = self._baseline.users.get(user)
        if state is None:
            return
        for name in (rule, *folded):
            state.leak_alerts.pop(name, None)  # harmless: no evidence for a look-back
        factor = self._rules.baseline["false_positive_factor"]
        for name in (rule, *folded):
            state.fp[name] = state.fp.get(name, 1.0) * factor
        state.reset_cache()

    # -- signals to findings -------------------------------------------------------------

    def _severity(self, base: Severity, score: float) -> Severity:
        low, high = self._rules.escalate_at
        steps = (score >= low) + (score >= high)
        return SEVERITIES[min(severity_rank(base) + steps, len(SEVERITIES) - 1)]

    def _live(self, key: tuple[str, str], t: float) -> _Active | None:
        """The active alert for ``key``, unless it went quiet past ``realert_after``."""
        active = self._active.get(key)
        if active is not None and t - active.last_t > self._rules.realert_after.total_seconds():
            del self._active[key]
            return None
        return active

    def _decide(self, user: str, signals: list[Signal], event: Event, t: float) -> list[Finding]:
        """One event's signals for one user: escalations of open alerts, and at most one
        new alert (the most severe rule; the others are folded into it, so one export
        crossing three thresholds pages once)."""
        out: list[Finding] = []
        fresh: list[tuple[Severity, Signal, Rule]] = []
        for signal in signals:
            rule = self._rules.rules.get(signal.rule)
            if rule is None or not rule.enabled:
                continue
            severity = self._severity(rule.severity, signal.score)
            state = self._baseline.users.get(user)
            if state is not None:
                state.leak_alerts[signal.rule] = t
            active = self._live((user, signal.rule), t)
            target = active
            if active is not None and active.alias is not None:
                target = self._live(active.alias, t)
            if active is None or target is None:
                fresh.append((severity, signal, rule))
                continue
            active.last_t = target.last_t = t
            if severity_rank(severity) > severity_rank(target.severity):
                target.severity = severity
                out.append(self._finding(target, signal, severity, event, escalation=True))
        if fresh:
            fresh.sort(key=lambda f: (severity_rank(f[0]), f[1].score), reverse=True)
            severity, signal, rule = fresh[0]
            response = next((r.response for _, _, r in fresh if r.response), None)
            primary = _Active(
                severity, signal.first_ts or event.ts, t, event.seq, rule.name, response
            )
            self._active[(user, rule.name)] = primary
            for sev, sig, other in fresh[1:]:
                self._active[(user, other.name)] = _Active(
                    sev, sig.first_ts or event.ts, t, event.seq, rule.name, None, (user, rule.name)
                )
            also = [other.name for _, _, other in fresh[1:]]
            out.append(self._finding(primary, signal, severity, event, also=also))
        return out

    @staticmethod
    def _finding(
        active: _Active,
        signal: Signal,
        severity: Severity,
        event: Event,
        escalation: bool = False,
        also: list[str] | None = None,
    ) -> Finding:
        evidence = dict(signal.evidence)
        evidence["seq_from"] = active.first_seq
        evidence["seq_to"] = event.seq
        if signal.rule != active.rule:
            evidence["signal_rule"] = signal.rule
        if also:
            evidence["also"] = also
        return Finding(
            ts=event.ts,
            user=signal.user,
            rule=active.rule,
            severity=severity,
            score=signal.score,
            summary=signal.summary,
            evidence=evidence,
            first_ts=active.first_ts,
            last_ts=event.ts,
            response=active.response,
            escalation=escalation,
        )
