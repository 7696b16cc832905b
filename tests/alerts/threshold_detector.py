"""A small threshold detector for the delivery and live-loop tests (they test storage,
delivery and the live loop, not detection). Light on imports: the kill-and-restart test
starts it in a fresh process many times."""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.model import SEVERITIES, Event, Finding, Response

RULE = "test_volume"


class ThresholdDetector:
    """Per user, records exported so far; a finding at T, 2T, 3T and 4T (low..critical).

    Deliberately stateful across the whole stream, so a skipped or doubled event shifts
    the seq at which a threshold is crossed and the tests can see it.
    """

    warmup = timedelta(days=1)

    def __init__(self, threshold: int = 100, response: Response | None = None) -> None:
        self.threshold = threshold
        self.response: Response | None = response
        self.totals: dict[str, int] = {}
        self.level: dict[str, int] = {}
        self.first: dict[str, datetime] = {}
        self.closed: list[tuple[str, str]] = []
        self.false_positives: list[tuple[str, str]] = []

    def process(self, event: Event) -> list[Finding]:
        if event.action != "export" or event.outcome != "allowed":
            return []
        if event.actor.startswith("system:"):
            return []
        user = event.actor
        total = self.totals.get(user, 0) + event.count
        self.totals[user] = total
        self.first.setdefault(user, event.ts)
        level = min(total // self.threshold, len(SEVERITIES))
        if level <= self.level.get(user, 0):
            return []
        escalation = self.level.get(user, 0) > 0
        self.level[user] = level
        return [
            Finding(
                ts=event.ts,
                user=user,
                rule=RULE,
                severity=SEVERITIES[level - 1],
                score=float(total),
                summary=f"{user} exported {total} records",
                evidence={
                    "seq_range": [None, event.seq],
                    "trigger_seq": event.seq,
                    "count": total,
                    "record_ids": list(event.record_ids),
                },
                first_ts=self.first[user],
                last_ts=event.ts,
                response=self.response,
                escalation=escalation,
            )
        ]

    def close(self, user: str, rule: str) -> None:
        self.closed.append((user, rule))
        self.level.pop(user, None)
        self.totals.pop(user, None)
        self.first.pop(user, None)

    def false_positive(self, user: str, rule: str) -> None:
        self.false_positives.append((user, rule))
        self.close(user, rule)
