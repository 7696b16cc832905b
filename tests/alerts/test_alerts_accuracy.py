"""Behaviours the evaluation sweep found wrong: a burst of exports by a user whose every
export is large, a month end where everyone exports more often, a colleague's many exports
passing for such a month end, a new hire ramping up, a drip of small exports every day,
and a departing user's first export."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from alerts_helpers import START, day_at, ev, feed, history, workday

from alerts.engine import DetectionEngine
from alerts.model import Event, Finding
from alerts.rules import load_rules
from alerts.statistics import count_tail, least_unusual_count

USERS = [f"user{i:02d}" for i in range(8)]
DAYS = 21


def _rules(found: list[Finding], user: str) -> set[str]:
    return {f.rule for f in found if f.user == user} | {
        r for f in found if f.user == user for r in f.evidence.get("also", [])
    }


def _trained(**kw: int) -> DetectionEngine:
    engine = DetectionEngine(load_rules(None))
    quiet = feed(engine, history(USERS, DAYS, **kw))
    assert [f for f in quiet if f.ts > START + timedelta(days=9)] == []
    return engine


# -- burst of exports -------------------------------------------------------------------


def test_a_few_minute_burst_of_exports_by_a_large_exporter_pages() -> None:
    # every user exports about 1,500 records every other day: one export of 1,000 is
    # nothing for them, nor is the per-minute volume of this burst
    engine = _trained(export_every=2, export=1500)
    t = day_at(DAYS, 13)
    burst = [
        ev(t + timedelta(seconds=70 * i), "user03", "export", ids=range(i * 1000, i * 1000 + 1000))
        for i in range(4)
    ]
    found = [f for f in feed(engine, burst) if f.user == "user03"]
    assert found and found[0].rule == "burst", [f.summary for f in found]
    assert found[0].ts - t <= timedelta(minutes=5)
    assert found[0].evidence["requests"] >= 3
    assert "in 3 requests within" in found[0].summary


def test_one_large_export_is_not_a_burst_but_is_judged_by_its_size() -> None:
    engine = _trained(export_every=4, export=100)
    found = feed(engine, [ev(day_at(DAYS, 11), "user03", "export", ids=range(1, 4001))])
    assert found and found[0].user == "user03"
    assert "burst" not in _rules(found, "user03")
    assert _rules(found, "user03") & {"baseline_hour", "baseline_day", "volume"}


def test_two_ordinary_exports_in_a_row_do_not_page() -> None:
    engine = _trained(export_every=2, export=1500)
    t = day_at(DAYS, 13)
    two = [ev(t, "user03", "export", ids=range(1500)),
           ev(t + timedelta(seconds=40), "user03", "export", "deal", ids=range(300))]  # fmt: skip
    assert [f for f in feed(engine, two) if f.user == "user03"] == []


# -- drip -------------------------------------------------------------------------------


def _drip_day(user: str, day: int, rng: random.Random, exports: int, size: int) -> list[Event]:
    """An ordinary day of reading plus ``exports`` exports of ``size`` records."""
    out = workday(user, day, rng)
    for i in range(exports):
        t = day_at(day, 10 + 6 * i / exports)
        out.append(ev(t, user, "export", ids=rng.sample(range(1, 5000), size)))
    return sorted(out, key=lambda e: e.ts)


def test_small_exports_every_day_page_as_a_drip_within_three_days() -> None:
    # a user who exports about 100 records every fourth day exports 3 times a day, and
    # reads no more than usual
    engine = _trained(export_every=4, export=100)
    rng = random.Random(21)
    found: list[Finding] = []
    for d in range(3):
        found += [f for f in feed(engine, _drip_day("user05", DAYS + d, rng, 3, 150))
                  if f.user == "user05"]  # fmt: skip
    assert "drip" in _rules(found, "user05"), [f.summary for f in found]
    drip = next(f for f in found if f.rule == "drip" or "drip" in f.evidence.get("also", []))
    assert drip.ts.date() <= day_at(DAYS + 2, 0).date()


def test_a_month_end_where_the_exporters_export_more_often_does_not_page_as_a_drip() -> None:
    # the same three days of three exports a day, but six of twenty people do it (the
    # managers' month-end reports) while the others read as usual: the company's volume
    # barely moves, its export requests are four times the usual
    users = [f"user{i:02d}" for i in range(20)]
    engine = DetectionEngine(load_rules(None))
    feed(engine, history(users, DAYS, export_every=4, export=100))
    rng = random.Random(22)
    found: list[Finding] = []
    for d in range(3):
        day = sorted(
            (e for i, u in enumerate(users)
             for e in (_drip_day(u, DAYS + d, rng, 3, 150) if i < 6 else
                       workday(u, DAYS + d, rng))),
            key=lambda e: e.ts,
        )  # fmt: skip
        found += feed(engine, day)
    assert [f for f in found if f.rule == "drip"] == [], [f.summary for f in found]
    assert not any("drip" in f.evidence.get("also", []) for f in found)


def test_a_colleagues_many_exports_do_not_pass_for_a_surge_that_excuses_a_drip() -> None:
    # while one user drips (three exports a day against one every fourth day), a
    # colleague exports a dozen times a day: the company's export requests triple, but
    # one person's are no company-wide surge (a month end is many people exporting more)
    users = [f"user{i:02d}" for i in range(20)]
    engine = DetectionEngine(load_rules(None))
    feed(engine, history(users, DAYS, export_every=4, export=100))
    rng = random.Random(23)
    found: list[Finding] = []
    for d in range(3):
        day = [e for u in users if u not in ("user05", "user11")
               for e in workday(u, DAYS + d, rng)]  # fmt: skip
        day += _drip_day("user05", DAYS + d, rng, 3, 150)
        day += _drip_day("user11", DAYS + d, rng, 12, 40)
        found += feed(engine, sorted(day, key=lambda e: e.ts))
    assert "drip" in _rules(found, "user05"), [f.summary for f in found]


@pytest.mark.parametrize("seed", [20, 21, 22, 28])
def test_a_new_hire_ramping_up_does_not_page_as_a_drip(seed: int) -> None:
    # a new hire starts at a fifth of a full day's work and grows to it over ten days,
    # with ordinary day-to-day variation: each new day is far above their early median
    engine = DetectionEngine(load_rules(None))
    rng = random.Random(seed)
    events = history(USERS, 42, scale=2.0)
    first = 7
    for day in range(first, 42):
        if (START + timedelta(days=day)).weekday() >= 5:
            continue
        ramp = min(1.0, 0.2 + 0.08 * (day - first)) * rng.lognormvariate(0, 0.35)
        events.extend(workday("newhire", day, rng, scale=2.0 * ramp))
    found = feed(engine, sorted(events, key=lambda e: e.ts))
    assert [f.summary for f in found if f.user == "newhire" and f.rule == "drip"] == []


# -- the count test ---------------------------------------------------------------------


def test_count_tail_is_wider_than_a_known_rate_when_history_is_short() -> None:
    # 3 exports in 30 days: 4 in the next 3 days is unusual; after 3 in 10 days less so
    assert count_tail(4, 3, 30, 3) < count_tail(4, 3, 10, 3) < 1.0
    assert count_tail(0, 3, 30, 3) == 1.0
    # a user who exports four times a day needs many more to look unusual
    assert least_unusual_count(120, 30, 3, 1e-3) > least_unusual_count(3, 30, 3, 1e-3)
    # a surge (more days' worth of requests expected) raises the bar
    assert least_unusual_count(3, 30, 9, 1e-3) > least_unusual_count(3, 30, 3, 1e-3)


# -- departing --------------------------------------------------------------------------


def test_a_departing_user_taking_a_few_records_at_night_is_not_paged_their_usual_is() -> None:
    engine = _trained(export_every=4, export=100)
    flag = ev(day_at(DAYS, 8), "admin", "restrict", "user", ids=["user03"], ip=None,
              details={"restriction": "departing", "reason": "notice"})  # fmt: skip
    assert feed(engine, [flag]) == []
    night = day_at(DAYS, 22)
    page = ev(night, "user03", "export", ids=[7, 8])
    assert [f for f in feed(engine, [page]) if f.user == "user03"] == []
    # nor a first print ever, of three records, from a new address
    printed = ev(night + timedelta(minutes=2), "user03", "print", ids=[9, 10, 11], ip="203.0.113.7")
    assert [f for f in feed(engine, [printed]) if f.user == "user03"] == []
    # an export of their usual size, at the same unusual hour, is what departing is for
    export = ev(night + timedelta(minutes=5), "user03", "export", ids=range(1, 121))
    found = [f for f in feed(engine, [export]) if f.user == "user03"]
    assert found and found[0].rule == "departing", [f.summary for f in found]


def test_a_departing_users_first_export_pages_even_when_smaller_than_the_peers() -> None:
    # everyone else exports about 400 records every other day; user "quiet" never did,
    # and exports 300 after being flagged departing, at their usual hour and address
    rng = random.Random(33)
    events = history(USERS, DAYS, export_every=2, export=400)
    for day in range(DAYS):
        if (START + timedelta(days=day)).weekday() < 5:
            events.extend(workday("quiet", day, rng))
    engine = DetectionEngine(load_rules(None))
    feed(engine, sorted(events, key=lambda e: e.ts))
    flag = ev(day_at(DAYS, 8), "admin", "restrict", "user", ids=["quiet"], ip=None,
              details={"restriction": "departing", "reason": "notice"})  # fmt: skip
    feed(engine, [flag])
    export = ev(day_at(DAYS, 11), "quiet", "export", ids=range(1, 301))
    found = [f for f in feed(engine, [export]) if f.user == "quiet"]
    assert found and found[0].rule == "departing", [f.summary for f in found]
    assert "first export" in found[0].summary


def _wide_exporter() -> DetectionEngine:
    # everyone else exports about 100 records every fourth day; "wide" exported five times
    # in the weeks on record, from 30 to 180 records: one file of theirs judged alone
    # could be anything up to several hundred
    rng = random.Random(35)
    events = history(USERS, DAYS, export_every=4, export=100)
    sizes = iter((40, 180, 60, 150, 30))
    for day in range(DAYS):
        if (START + timedelta(days=day)).weekday() < 5:
            size = next(sizes, 0) if day % 3 == 0 else 0
            events.extend(workday("wide", day, rng, export=size))
    engine = DetectionEngine(load_rules(None))
    feed(engine, sorted(events, key=lambda e: e.ts))
    flag = ev(day_at(DAYS, 8), "admin", "restrict", "user", ids=["wide"], ip=None,
              details={"restriction": "departing", "reason": "notice"})  # fmt: skip
    feed(engine, [flag])
    return engine


def test_a_departing_users_first_export_larger_than_all_of_theirs_pages() -> None:
    engine = _wide_exporter()
    export = ev(day_at(DAYS, 11), "wide", "export", ids=range(1, 421))
    found = [f for f in feed(engine, [export]) if f.user == "wide"]
    assert found and found[0].rule == "departing", [f.summary for f in found]
    assert "largest export yet, after notice" in found[0].summary


def test_a_departing_users_export_topping_theirs_pages_after_an_ordinary_first_one() -> None:
    # on the flag's day they export a small file as they often do; later that day one
    # larger than any of theirs: the first after notice was ordinary, the record is not
    engine = _wide_exporter()
    small = ev(day_at(DAYS, 10), "wide", "export", ids=range(1, 61))
    assert [f.summary for f in feed(engine, [small]) if f.user == "wide"] == []
    big = ev(day_at(DAYS, 15), "wide", "export", ids=range(100, 520))
    found = [f for f in feed(engine, [big]) if f.user == "wide"]
    assert found and found[0].rule == "departing", [f.summary for f in found]
    assert "largest export yet" in found[0].summary


def test_a_departing_users_first_export_within_their_own_sizes_does_not_page() -> None:
    engine = _wide_exporter()
    export = ev(day_at(DAYS, 11), "wide", "export", ids=range(1, 171))
    assert [f.summary for f in feed(engine, [export]) if f.user == "wide"] == []


# -- first exports ----------------------------------------------------------------------


def test_a_first_export_by_someone_who_reads_little_is_held_to_the_peers_level() -> None:
    # two owners read little and export the whole book now and then; a third owner,
    # in the company for weeks, exports for the first time: as large as the others do
    rng = random.Random(31)
    events = history(USERS, DAYS, export_every=4, export=100)
    for day in range(DAYS):
        if (START + timedelta(days=day)).weekday() >= 5:
            continue
        for n, owner in enumerate(("owner1", "owner2", "owner3")):
            big = 3000 if owner != "owner3" and (day + n) % 5 == 0 else 0
            events.extend(workday(owner, day, rng, scale=0.25, export=big))
    engine = DetectionEngine(load_rules(None))
    feed(engine, sorted(events, key=lambda e: e.ts))
    first = ev(day_at(DAYS, 11), "owner3", "export", ids=range(1, 3001))
    assert [f.summary for f in feed(engine, [first]) if f.user == "owner3"] == []


def test_look_back_finds_days_of_many_small_exports_below_every_volume_level() -> None:
    # in the weeks before notice, three days on which the user exported six times (a
    # few dozen records each: no day is large), against an export every fourth day
    events = history(USERS, DAYS, export_every=4, export=100)
    rng = random.Random(41)
    for day in (8, 10, 14):
        for i in range(6):
            t = day_at(day, 10 + i)
            events.append(ev(t, "user05", "export", ids=rng.sample(range(1, 5000), 40)))
    engine = DetectionEngine(load_rules(None))
    feed(engine, sorted(events, key=lambda e: e.ts))
    flag = ev(day_at(DAYS, 8), "admin", "restrict", "user", ids=["user05"], ip=None,
              details={"restriction": "departing", "reason": "resigned"})  # fmt: skip
    found = feed(engine, [flag])
    assert [f.rule for f in found] == ["departing_lookback"], [f.summary for f in found]


def _prober() -> tuple[DetectionEngine, list[Finding]]:
    # three days before notice, a run of refused requests for another team's records
    engine = DetectionEngine(load_rules(None))
    feed(engine, history(USERS, DAYS))
    t0 = day_at(DAYS - 3, 11)
    run = [
        ev(t0 + timedelta(seconds=20 * i), "user03", ids=[900_000 + i], outcome="denied")
        for i in range(12)
    ]
    return engine, feed(engine, run)


def test_look_back_names_an_alert_the_window_already_had() -> None:
    engine, before = _prober()
    assert "probing" in _rules(before, "user03"), [f.summary for f in before]
    flag = ev(day_at(DAYS, 8), "admin", "restrict", "user", ids=["user03"], ip=None,
              details={"restriction": "departing", "reason": "resigned"})  # fmt: skip
    found = feed(engine, [flag])
    assert [f.rule for f in found] == ["departing_lookback"], [f.summary for f in found]
    assert "already alerted: probing on" in found[0].summary
    assert [a["rule"] for a in found[0].evidence["earlier_alerts"]] == ["probing"]


def test_look_back_does_not_count_an_alert_judged_harmless() -> None:
    engine, before = _prober()
    assert "probing" in _rules(before, "user03")
    engine.false_positive("user03", "probing")
    flag = ev(day_at(DAYS, 8), "admin", "restrict", "user", ids=["user03"], ip=None,
              details={"restriction": "departing", "reason": "resigned"})  # fmt: skip
    assert [f.summary for f in feed(engine, [flag])] == []


# -- unusual time -----------------------------------------------------------------------


def test_a_session_at_a_new_hour_does_not_make_its_own_hour_usual() -> None:
    # a user with a week of office hours (about 45 active hours) lists, then exports, at
    # night from a new address: the list opened the night hour, which must not count as
    # a habit of theirs when the export a minute later is judged
    rng = random.Random(51)
    events = history(USERS, DAYS)
    for day in range(DAYS - 9, DAYS):
        if (START + timedelta(days=day)).weekday() < 5:
            events.extend(workday("late", day, rng, export=100 if day % 3 == 0 else 0))
    engine = DetectionEngine(load_rules(None))
    feed(engine, sorted(events, key=lambda e: e.ts))
    night = day_at(DAYS, 23.5)
    found = feed(engine, [
        ev(night, "late", "list", ids=range(1, 51), ip="185.1.2.3"),
        ev(night + timedelta(minutes=1), "late", "export", ids=range(1, 101), ip="185.1.2.3"),
    ])  # fmt: skip
    assert [f.rule for f in found if f.user == "late"] == ["unusual_export"], found


def test_a_new_address_with_a_somewhat_larger_export_or_a_page_at_night_does_not_page() -> None:
    engine = _trained(export_every=4, export=100)
    home = "198.51.0.9"
    # working from home for the first time, an export two and a half times the usual
    found = feed(engine, [ev(day_at(DAYS, 11), "user02", "export", ids=range(1, 251), ip=home)])
    assert [f.summary for f in found if f.user == "user02"] == []
    # two records printed at night from yet another address
    page = ev(day_at(DAYS, 23), "user04", "print", ids=[3, 4], ip="203.0.113.9")
    assert [f.summary for f in feed(engine, [page]) if f.user == "user04"] == []
    # six times the usual from a new address is clearly more: it pages
    big = ev(day_at(DAYS + 1, 11), "user06", "export", ids=range(1, 601), ip="198.51.0.10")
    found = [f for f in feed(engine, [big]) if f.user == "user06"]
    assert found and "unusual_export" in _rules(found, "user06"), [f.summary for f in found]
