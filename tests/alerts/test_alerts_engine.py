"""alerts/engine.py: one active alert per (user, rule), escalation, close, false
positives, folding, event time as the only clock, warm-up, rules swapped live."""

from __future__ import annotations

from datetime import timedelta

from alerts_helpers import day_at, ev, feed, history

from alerts.engine import DetectionEngine
from alerts.rules import load_rules, parse_rules


def burst(engine: DetectionEngine, user: str, at_hour: float, n: int, day: int = 0) -> list:
    return feed(engine, [ev(day_at(day, at_hour), user, "list", ids=range(n))])


def test_one_active_alert_per_user_and_rule_then_escalation_only() -> None:
    engine = DetectionEngine(load_rules(None))
    first = burst(engine, "x", 10, 60)  # 60 > 50: high
    assert [(f.rule, f.severity, f.escalation) for f in first] == [("burst", "high", False)]
    assert burst(engine, "x", 10.1, 60) == []  # same rule, same severity: updated silently
    more = burst(engine, "x", 10.2, 200)  # 200 / 50 = 4 >= 3: one step up
    assert [(f.rule, f.severity, f.escalation) for f in more] == [("burst", "critical", True)]
    assert more[0].first_ts == first[0].ts  # the same alert, updated
    assert [f.rule for f in burst(engine, "x", 10.3, 900)] == ["baseline_hour"]  # another rule
    assert [f for f in burst(engine, "x", 10.35, 900) if f.rule == "burst"] == []  # critical tops
    assert [f.user for f in burst(engine, "y", 10.3, 60)] == ["y"]  # other users are apart


def test_close_makes_the_next_signal_a_new_alert() -> None:
    engine = DetectionEngine(load_rules(None))
    assert burst(engine, "x", 10, 60)
    engine.close("x", "burst")
    again = burst(engine, "x", 10.5, 60)
    assert [(f.rule, f.escalation) for f in again] == [("burst", False)]


def test_an_alert_untouched_for_a_day_is_over() -> None:
    engine = DetectionEngine(load_rules(None))
    assert burst(engine, "x", 10, 60)
    assert burst(engine, "x", 20, 60) == []  # 10 hours later: still the same alert
    again = burst(engine, "x", 21, 400, day=1)  # > 24 h since it was last touched
    assert [(f.rule, f.escalation) for f in again if f.rule == "burst"] == [("burst", False)]


def test_false_positive_raises_that_users_bar_for_that_rule() -> None:
    engine = DetectionEngine(load_rules(None))
    assert burst(engine, "x", 10, 60)
    engine.false_positive("x", "burst")
    assert burst(engine, "x", 10.5, 60) == []  # the bar is now 100 for x
    assert burst(engine, "x", 10.6, 101)  # but not gone
    assert burst(engine, "y", 10.7, 60)  # and other users keep the template


def test_one_event_crossing_several_rules_raises_one_alert() -> None:
    rules = parse_rules("[rules.volume.limits]\nexport = 100\n")
    engine = DetectionEngine(rules)
    found = feed(engine, [ev(day_at(0, 10), "x", "export", ids=range(3000))])
    assert len(found) == 1
    folded = set(found[0].evidence["also"])
    assert {"volume", "baseline_hour"} <= folded | {found[0].rule}
    # the folded rules belong to that alert: they neither page again nor separately
    more = feed(engine, [ev(day_at(0, 10.2), "x", "export", ids=range(3000))])
    assert all(f.escalation and f.rule == found[0].rule for f in more)
    engine.close("x", found[0].rule)
    assert feed(engine, [ev(day_at(0, 10.4), "x", "export", ids=range(3000))])


def test_response_comes_from_the_rule() -> None:
    rules = parse_rules('[rules.probing]\nresponse = "freeze_exports"\n')
    engine = DetectionEngine(rules)
    denied = [ev(day_at(0, 9) + timedelta(seconds=i), "x", "view", ids=[i], outcome="denied")
              for i in range(8)]  # fmt: skip
    found = feed(engine, denied)
    assert [(f.rule, f.response) for f in found] == [("probing", "freeze_exports")]


def test_disabled_rules_raise_nothing() -> None:
    engine = DetectionEngine(parse_rules("[rules.burst]\nenabled = false\n"))
    assert burst(engine, "x", 10, 60) == []


def test_event_time_is_the_only_clock_and_the_output_is_deterministic() -> None:
    events = history(["a", "b", "c"], 14, seed=3)
    events.append(ev(day_at(14, 10), "a", "export", ids=range(5000)))
    runs = []
    for _ in range(2):
        engine = DetectionEngine(load_rules(None))
        runs.append([f.to_contract() for f in feed(engine, events)])
    assert runs[0] == runs[1] and runs[0]
    assert runs[0][-1]["ts"] == "2026-11-16T10:00:00Z"


def test_a_late_event_does_not_move_the_clock_back() -> None:
    engine = DetectionEngine(load_rules(None))
    assert burst(engine, "x", 10, 30) == []
    # an event stamped earlier than the last one counts at the engine's time
    assert burst(engine, "x", 9, 30)


def test_warmup_covers_history_and_look_back() -> None:
    rules = load_rules(None)
    assert DetectionEngine(rules).warmup == timedelta(days=31)
    longer = parse_rules("[detection]\nhistory_days = 60\n")
    assert DetectionEngine(longer).warmup == timedelta(days=61)


def test_rules_can_be_swapped_without_losing_what_was_learned() -> None:
    engine = DetectionEngine(load_rules(None))
    assert burst(engine, "x", 10, 60)
    engine.rules = parse_rules("[rules.burst]\nfloor = 500\n")
    assert burst(engine, "y", 10.1, 120) == []  # the new floor applies at once
    assert burst(engine, "x", 10.2, 600)  # x's open alert is still known: escalation
