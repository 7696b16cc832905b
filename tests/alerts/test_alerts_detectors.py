"""alerts/detectors/*: each detector through the engine, with the shipped default rules.

Every user first gets an ordinary working history (lists of 20, single views, an export
of about 100 every few days), so the baselines are the ones a real company would learn.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from alerts_helpers import START, day_at, ev, feed, history, workday

from alerts.engine import DetectionEngine
from alerts.model import Event, Finding
from alerts.rules import load_rules, parse_rules

USERS = [f"user{i:02d}" for i in range(8)]
DAYS = 21  # three weeks: fifteen working days of history, past the learning period


@pytest.fixture
def trained() -> DetectionEngine:
    engine = DetectionEngine(load_rules(None))
    quiet = feed(engine, history(USERS, DAYS))
    assert [f for f in quiet if f.ts > START + timedelta(days=9)] == []
    return engine


def rules_of(found: list[Finding], user: str) -> set[str]:
    return {f.rule for f in found if f.user == user} | {
        r for f in found if f.user == user for r in f.evidence.get("also", [])
    }


# -- burst ------------------------------------------------------------------------------


def test_burst_template_pages_above_50_records_a_minute_with_no_history() -> None:
    engine = DetectionEngine(load_rules(None))
    t = day_at(0, 10)
    assert feed(engine, [ev(t, "x", "list", ids=range(50))]) == []
    found = feed(engine, [ev(t + timedelta(seconds=30), "x", "list", ids=range(100, 101))])
    assert [f.rule for f in found] == ["burst"]
    assert "x read 51 contacts in 30 seconds" in found[0].summary
    # outside the minute the window is empty again
    assert feed(engine, [ev(t + timedelta(seconds=200), "y", "list", ids=range(50))]) == []


def test_burst_export_of_thousands_against_the_users_own_history(trained: DetectionEngine) -> None:
    t = day_at(DAYS, 11)
    found = feed(trained, [ev(t, "user03", "export", ids=range(1, 4813))])
    assert found and found[0].user == "user03"
    assert found[0].rule in {"burst", "baseline_hour", "baseline_day", "volume"}
    assert found[0].severity in ("high", "critical")
    assert "4,812" in found[0].summary and "usually under" in found[0].summary
    assert len(found[0].evidence["record_ids"]) == 10  # a sample of ids, never contents


def test_an_ordinary_export_after_history_does_not_page(trained: DetectionEngine) -> None:
    t = day_at(DAYS, 11)
    assert feed(trained, [ev(t, "user03", "export", ids=range(1, 121))]) == []


# -- volume -----------------------------------------------------------------------------


def test_volume_counts_record_ids_so_many_small_lists_weigh_like_one_export() -> None:
    rules = parse_rules("[rules.burst]\nenabled = false\n[rules.volume.limits]\nlist = 400\n")
    engine = DetectionEngine(rules)
    t = day_at(0, 9)
    pages = [ev(t + timedelta(minutes=2 * i), "x", "list", ids=range(20 * i, 20 * i + 20))
             for i in range(25)]  # fmt: skip
    found = feed(engine, pages)
    volume = [f for f in found if f.rule == "volume" or "volume" in f.evidence.get("also", [])]
    assert volume, found
    assert volume[0].ts == pages[20].ts  # the 21st page of 20 crosses 400


# -- per-user baseline, peers, surge -----------------------------------------------------


def test_a_day_far_above_the_users_own_history_pages(trained: DetectionEngine) -> None:
    rng = random.Random(3)
    day = workday("user05", DAYS, rng, scale=8.0)  # eight times the usual reading
    found = feed(trained, day)
    assert {"baseline_hour", "baseline_day"} & rules_of(found, "user05"), found


def test_company_wide_surge_does_not_page_everyone(trained: DetectionEngine) -> None:
    rng = random.Random(4)
    # month end: everyone reads and exports about three times as much
    surge = sorted(
        (e for u in USERS for e in workday(u, DAYS, rng, scale=3.0, export=300)),
        key=lambda e: e.ts,
    )
    found = feed(trained, surge)
    assert len({f.user for f in found}) <= 1, [f.summary for f in found]


def test_a_new_user_is_judged_against_peers_not_the_bare_floor(
    trained: DetectionEngine,
) -> None:
    rng = random.Random(5)
    # a newcomer doing an ordinary day's work, with an ordinary export, is not paged
    assert feed(trained, workday("newcomer", DAYS, rng, export=110)) == []
    found = feed(trained, [ev(day_at(DAYS, 18), "newcomer", "export", ids=range(5000))])
    assert found and found[0].user == "newcomer"


# -- scraping ---------------------------------------------------------------------------


def test_scraping_by_sequential_id_walk(trained: DetectionEngine) -> None:
    t = day_at(DAYS, 10)
    walk = [ev(t + timedelta(seconds=20 * i), "user01", "view", ids=[7000 + i])
            for i in range(30)]  # fmt: skip
    found = feed(trained, walk)
    assert [f.rule for f in found] == ["scraping"]
    assert found[0].ts == walk[24].ts  # the 25th consecutive id
    assert "in id order" in found[0].summary


def test_scraping_by_many_distinct_records_in_random_order(trained: DetectionEngine) -> None:
    rng = random.Random(6)
    t = day_at(DAYS, 10)
    ids = rng.sample(range(1, 50000, 7), 120)
    views = [ev(t + timedelta(seconds=4 * i), "user02", "view", ids=[r]) for i, r in enumerate(ids)]
    found = feed(trained, views)
    assert "scraping" in rules_of(found, "user02")
    assert found[0].evidence["id_run"] < 25  # found by count, not by a walk


def test_rereading_the_same_few_records_is_not_scraping(trained: DetectionEngine) -> None:
    t = day_at(DAYS, 10)
    views = [ev(t + timedelta(seconds=5 * i), "user02", "view", ids=[100 + i % 5])
             for i in range(120)]  # fmt: skip
    assert "scraping" not in rules_of(feed(trained, views), "user02")


# -- unusual time and address ------------------------------------------------------------


def test_night_export_from_a_new_address_pages(trained: DetectionEngine) -> None:
    t = day_at(DAYS, 2.5)
    found = feed(trained, [ev(t, "user04", "export", ids=range(90), ip="185.1.2.3")])
    assert [f.rule for f in found] == ["unusual_export"]
    assert "outside their usual hours" in found[0].summary
    assert "new address 185.1.2.3" in found[0].summary


def test_one_unusual_signal_alone_does_not_page(trained: DetectionEngine) -> None:
    found = feed(trained, [ev(day_at(DAYS, 2.5), "user04", "export", ids=range(90))])
    assert found == []  # off hours, known address, usual size
    found = feed(trained, [ev(day_at(DAYS, 11), "user05", "export", ids=range(90), ip="8.8.8.8")])
    assert found == []  # new address, working hours, usual size


# -- probing ----------------------------------------------------------------------------


def test_probing_is_a_run_of_denials(trained: DetectionEngine) -> None:
    t = day_at(DAYS, 14)
    denied = [ev(t + timedelta(seconds=30 * i), "user06", "view", ids=[90000 + i],
                 outcome="denied") for i in range(8)]  # fmt: skip
    found = feed(trained, denied)
    assert [(f.rule, f.ts) for f in found] == [("probing", denied[7].ts)]
    assert "refused 8 times" in found[0].summary


def test_scattered_denials_are_not_probing(trained: DetectionEngine) -> None:
    t = day_at(DAYS, 9)
    denied = [ev(t + timedelta(minutes=15 * i), "user06", "export", outcome="denied")
              for i in range(12)]  # fmt: skip
    assert feed(trained, denied) == []


# -- drip -------------------------------------------------------------------------------


def test_drip_over_three_days_pages_where_no_single_day_does(trained: DetectionEngine) -> None:
    rng = random.Random(8)
    found: list[Finding] = []
    for d in range(3):  # Mon-Wed of the fourth week, each about 3x the usual volume
        day = workday("user07", DAYS + d, rng, scale=3.0)
        found += [f for f in feed(trained, day) if f.user == "user07"]
        if d < 2:
            assert found == []  # no single day is unusual enough to page
    assert rules_of(found, "user07") == {"drip"}, [f.summary for f in found]
    assert found[0].ts.date() == day_at(DAYS + 2, 0).date()


def _export_days(user: str, day: int, rng: random.Random, sizes: list[int]) -> list[Event]:
    """An ordinary day of ``user`` with exports of ``sizes`` at 10:00, 12:00, 14:00, ..."""
    out = workday(user, day, rng)
    for i, size in enumerate(sizes):
        t = day_at(day, 10 + 2 * i) + timedelta(minutes=rng.uniform(0, 30))
        out.append(ev(t, user, "export", "contact", range(1, size + 1)))
    return sorted(out, key=lambda e: e.ts)


def test_drip_taken_in_exports_pages_on_the_days_volume() -> None:
    # an export every other day of about 100: three exports a day of 300 for three days
    # are not often enough for the count test (6 where about 1.5 were to be expected),
    # reading is as usual, no hour or day passes a floor; the days' volume, against the
    # user's own export days, is what is unusual
    engine = DetectionEngine(load_rules(None))
    feed(engine, history(USERS, DAYS, export_every=2))
    rng = random.Random(8)
    found: list[Finding] = []
    for d in range(3):
        found += [f for f in feed(engine, _export_days("user07", DAYS + d, rng, [300] * 3))]
        if d < 2:
            assert found == []
    assert rules_of(found, "user07") == {"drip"}, [f.summary for f in found]
    assert "took more than usual each day (usually 4" in found[0].summary, found[0].summary
    assert found[0].ts.date() == day_at(DAYS + 2, 0).date()


def test_export_days_are_judged_against_export_days_not_reading_days() -> None:
    # an owner-like habit: reading days of about 340 records, and on one day in four an
    # export of 2,000 more; three export days in a row of the usual size are no drip
    # (against all their days, export days are far above the median day)
    engine = DetectionEngine(load_rules(None))
    feed(engine, history(USERS, DAYS, export=2000))
    rng = random.Random(8)
    found: list[Finding] = []
    for d in range(3):
        found += feed(engine, _export_days("user07", DAYS + d, rng, [2000]))
    assert [f.summary for f in found if f.user == "user07"] == []


# -- departing --------------------------------------------------------------------------


def _flag(user: str, t: object) -> object:
    return ev(t, "admin", "restrict", "user", ids=[user], ip=None,  # type: ignore[arg-type]
              details={"restriction": "departing", "reason": "notice"})  # fmt: skip


def test_departing_lowers_export_thresholds(trained: DetectionEngine) -> None:
    export = ev(day_at(DAYS, 11), "user03", "export", ids=range(1, 420))
    twin = DetectionEngine(load_rules(None))
    feed(twin, history(USERS, DAYS))
    assert feed(twin, [ev(day_at(DAYS, 11), "user03", "export", ids=range(1, 420))]) == []
    assert feed(trained, [_flag("user03", day_at(DAYS, 8))]) == []  # type: ignore[list-item]
    found = feed(trained, [export])
    assert found and found[0].user == "user03"
    assert "departing" in rules_of(found, "user03")


def test_departing_look_back_rescores_the_last_30_days() -> None:
    events = history(USERS, DAYS)
    rng = random.Random(9)
    took = []
    for d in (14, 15, 16):  # before anyone knew: three days at four times the usual
        took += workday("user02", d, rng, scale=3.0, export=300)
    engine = DetectionEngine(load_rules(None))
    found = feed(engine, sorted(events + took, key=lambda e: e.ts))
    flag = _flag("user02", day_at(DAYS, 8))
    at_flag = engine.process(flag)  # type: ignore[arg-type]
    assert [f.rule for f in at_flag] == ["departing_lookback"]
    assert at_flag[0].ts == flag.ts  # type: ignore[attr-defined]
    assert "in the last 30 days" in at_flag[0].summary
    assert len(at_flag[0].evidence["unusual_days"]) >= 2
    del found


def test_look_back_of_an_ordinary_user_finds_nothing(trained: DetectionEngine) -> None:
    assert trained.process(_flag("user01", day_at(DAYS, 8))) == []  # type: ignore[arg-type]


# -- system -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "outcome", "rule"),
    [
        ("backup.run", "error", "backup_failed"),
        ("backup.verify", "error", "backup_failed"),
        ("backup.overdue", "allowed", "backup_overdue"),
        ("policy.reload", "error", "policy_rejected"),
    ],
)
def test_system_faults_become_alerts(action: str, outcome: str, rule: str) -> None:
    engine = DetectionEngine(load_rules(None))
    e = ev(day_at(0, 2), "system:daemon", action, "backup", outcome=outcome,
           details={"error": "store unreachable"})  # fmt: skip
    found = engine.process(e)
    assert [(f.user, f.rule) for f in found] == [("system", rule)]
    assert "store unreachable" in found[0].summary


def test_successful_system_events_are_not_alerts() -> None:
    engine = DetectionEngine(load_rules(None))
    for action in ("backup.run", "policy.reload"):
        assert engine.process(ev(day_at(0, 2), "system:daemon", action, "backup")) == []
