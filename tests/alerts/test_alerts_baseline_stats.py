"""alerts/baseline.py statistics that false alerts and misses came from: the peers'
spread when members have few days of a measure, and the company surge a user's own burst
must not raise."""

from __future__ import annotations

import math
import random
from datetime import timedelta

from alerts_helpers import START, day_at, ev, feed, history, workday

from alerts.engine import DetectionEngine
from alerts.rules import load_rules
from alerts.surge import _surge

USERS = [f"user{i:02d}" for i in range(8)]
DAYS = 21


def test_peers_with_one_or_two_export_days_do_not_make_a_newcomer_baseline_a_point() -> None:
    # everyone exports on only two days of three weeks: each member's own MAD is 0
    engine = DetectionEngine(load_rules(None))
    found = feed(engine, history(USERS, DAYS, export_every=9, export=400))
    assert [f for f in found if f.ts > START + timedelta(days=9)] == []
    b = engine._baseline
    peer = b.peer_stats("*", DAYS, "day:export")
    assert peer is not None
    assert peer.spread >= load_rules(None).baseline["min_spread"]
    # a newcomer whose first export is a little larger than the peers' usual is not paged
    rng = random.Random(11)
    day = workday("newcomer", DAYS, rng, export=700)
    assert [f for f in feed(engine, day) if f.user == "newcomer"] == []


def test_surge_without_the_user_above_the_median() -> None:
    # five users at their usual pace, one (the leak) at six times it
    ratios = [1.0, 1.05, 1.1, 0.95, 1.2, 6.0]
    names = ["a", "b", "c", "d", "e", "leak"]
    surge, own, above = _surge(ratios, names, 5, 4.0)
    assert abs(surge - 1.075) < 1e-9  # the median of six: moved by the leak
    assert "leak" in above and own == 1.05  # the leak's own bar: the median of the other five
    assert above == {"c", "e", "leak"}
    # with too few others left, no surge applies to those above the median
    _, own, above = _surge(ratios[1:], names[1:], 5, 4.0)
    assert own == 1.0 and above == {"e", "leak"}
    # where the median without one of them is the median (both clamped to 1), who is
    # above changes no one's factor: not gathered
    surge, own, above = _surge([0.5, 0.6, 0.7, 0.8, 0.9, 0.95], names, 5, 4.0)
    assert surge == own == 1.0 and above == frozenset()


def test_a_users_own_export_burst_does_not_raise_their_own_export_surge() -> None:
    # five users who export a little every day; one of them exports five times their
    # usual: the export surge applied to them is the others' (no surge), so their burst
    # pages although it lifts the company median
    engine = DetectionEngine(load_rules(None))
    users = USERS[:6]
    feed(engine, history(users, DAYS, export_every=1, export=300))
    rng = random.Random(12)
    t = day_at(DAYS, 9)
    today = [e for u in users[1:] for e in workday(u, DAYS, rng, export=330)]
    feed(engine, sorted(today, key=lambda e: e.ts))
    burst = [ev(t + timedelta(hours=3, seconds=70 * i), users[0], "export", ids=range(i * 700,
             (i + 1) * 700)) for i in range(4)]  # fmt: skip
    found = feed(engine, burst)
    assert found and found[0].user == users[0], [f.summary for f in found]


def _rare_exporter(size: int, ip: str = "10.0.0.1") -> list[str]:
    """Peers who export about 150 records every third day (their sizes vary by a factor
    of about e^0.4), and a user with two exports of 127 on record who then exports
    ``size`` records (working from ``ip`` that day): the rules that page for it."""
    engine = DetectionEngine(load_rules(None))
    rng = random.Random(5)
    events = []
    for day in range(DAYS):
        if (START + timedelta(days=day)).weekday() >= 5:
            continue
        for n, user in enumerate(USERS):
            export = round(150 * math.exp(rng.gauss(0, 0.4))) if (day + n) % 3 == 0 else 0
            events += workday(user, day, rng, export=export)
        events += workday("rare", day, rng, export=127 if day in (8, 15) else 0)
    feed(engine, sorted(events, key=lambda e: e.ts))
    found = feed(engine, workday("rare", DAYS, rng, export=size, ip=ip))
    return [f.rule for f in found if f.user == "rare"]


def test_a_user_with_two_exports_is_judged_against_the_predictive_t_not_a_normal_tail() -> None:
    # two exports of 127 tell little of how much this user's exports vary: the next one's
    # distribution is Student's t with the pooled spread's few degrees of freedom, so
    # k = 4 normal spreads (about 540 here) would page an ordinary 4.5x export at the
    # margin x predicted high level (about 620) that bounds it
    assert _rare_exporter(580) == []
    # what is well beyond that bound still pages
    assert "baseline_hour" in _rare_exporter(1000)


def _busy_day_export(size: int) -> list[str]:
    """Eight users who export a few times in three weeks; today all of them read twice as
    much as usual (a month end), and one of them, alone to export so far, exports
    ``size`` records at 12:30: the rules that page for it."""
    engine = DetectionEngine(load_rules(None))
    feed(engine, history(USERS, DAYS, export_every=9, export=300))
    rng = random.Random(13)
    today = sorted((e for u in USERS for e in workday(u, DAYS, rng, scale=2.0)),
                   key=lambda e: e.ts)  # fmt: skip
    t = day_at(DAYS, 12.5)
    feed(engine, [e for e in today if e.ts < t])
    found = feed(engine, [ev(t, USERS[0], "export", ids=range(size))])
    return [f.rule for f in found if f.user == USERS[0]]


def test_an_export_surge_too_few_exporters_measure_follows_the_days_workload() -> None:
    # the user's usual export level is about 1,400 records an hour; with one exporter the
    # export surge cannot be measured, and the company reading at twice its usual (the
    # same month end) is the evidence there is: an export of 2,000 is that day's ordinary
    assert _busy_day_export(2000) == []
    # twice as large as the day's bar still pages
    assert "baseline_hour" in _busy_day_export(3500)


def test_a_new_address_and_a_size_read_on_the_predictive_t_for_a_user_with_two_exports() -> None:
    # from a new address, 500 records by the same user: 3 normal spreads over their two
    # exports of 127 (about 380) would call the size unusual too, and two signals page;
    # on the predictive t with the spread's 6 degrees of freedom, 3 spreads lie at 4.9
    # (about 740), so the new address alone remains
    assert "unusual_export" not in _rare_exporter(500, ip="198.51.100.7")
    # twice that still pages (one alert per export: the hourly baseline's, the larger)
    assert _rare_exporter(1000, ip="198.51.100.7") == ["baseline_hour"]
