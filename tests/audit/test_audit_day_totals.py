"""Day totals: a user's activity per day read from sums of ended days, and always the
same answer as counting the ledger's entries (windows that cut days, entries past the
mark, a writer's late clock, archived entries, a reader's scope, a read-only copy)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import KEY, START, stepping_clock
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

from audit import AuditEvent, Ledger, audit_ledger, create_tables, day_totals, query
from audit.events import ActivityDay

ACTORS = ("alice", "bob", "carol")
KINDS = (
    ("view", "contact", "allowed", 1),
    ("list", "contact", "allowed", 10),
    ("export", "contact", "allowed", 200),
    ("export", "contact", "denied", 0),
    ("view", "company", "allowed", 1),
)


def fill(ledger: Ledger, n: int, offset: int = 0) -> None:
    for i in range(offset, offset + n):
        action, resource, outcome, count = KINDS[(i * 7) % len(KINDS)]
        ledger.append(
            AuditEvent(ACTORS[i % 3], action, resource, tuple(range(count)), count, outcome=outcome)
        )


def dated(engine: Engine, start: datetime, step: timedelta, **kw: Any) -> Ledger:
    return Ledger(engine, KEY, clock=stepping_clock(start, step), **kw)


def counted(engine: Engine, actor: str, **window: Any) -> list[ActivityDay]:
    """The answer counted from the ledger's entries alone (the reference)."""
    return query.count_activity(engine, actor, window.get("since"), window.get("until"), ())


def totals_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_day_totals")).scalar_one())


def windows() -> list[dict[str, datetime]]:
    midnight = START.replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        {},
        {"since": midnight + timedelta(days=1)},
        {"until": midnight + timedelta(days=3)},
        {"since": midnight + timedelta(days=1), "until": midnight + timedelta(days=3)},
        {"since": START + timedelta(hours=7), "until": START + timedelta(days=2, hours=5)},
        {"since": START + timedelta(hours=30)},
        {"until": START + timedelta(hours=50, minutes=3)},
        {"since": START + timedelta(hours=3), "until": START + timedelta(hours=4)},
        {"since": midnight + timedelta(days=2), "until": midnight + timedelta(days=2)},
        {"since": midnight + timedelta(days=40)},
    ]


def test_whole_days_come_from_the_totals_and_every_window_counts_the_same(
    engine: Engine,
) -> None:
    fill(dated(engine, START, timedelta(minutes=37)), 300)  # about eight ended days
    fill(dated(engine, datetime.now(UTC), timedelta(seconds=1)), 9, offset=300)  # today
    for actor in ACTORS:
        for window in windows():
            assert Ledger(engine, KEY).activity(actor, **window) == counted(
                engine, actor, **window
            ), (actor, window)
    with engine.connect() as conn:
        mark = day_totals.totals_upto(conn)
    assert 0 < mark < 309  # today's entries are not summed: the day has not ended
    assert totals_rows(engine) > 0


def test_a_late_clock_and_repeated_catch_ups_never_count_twice(engine: Engine) -> None:
    ledger = Ledger(engine, KEY)
    fill(dated(engine, START, timedelta(minutes=50)), 120)
    first = ledger.activity("alice")
    for _ in range(3):
        with engine.begin() as conn:
            day_totals.catch_up(conn, datetime.now(UTC))
    assert ledger.activity("alice") == first
    # A writer whose clock is days behind: entries of summed days after the mark. They
    # are counted from the ledger until a newer ended day is summed, and with it them.
    fill(dated(engine, START + timedelta(hours=5), timedelta(minutes=13)), 30, offset=120)
    assert ledger.activity("alice") == counted(engine, "alice")
    fill(dated(engine, START + timedelta(days=9), timedelta(minutes=1)), 3, offset=150)
    assert ledger.activity("alice") == counted(engine, "alice")
    with engine.connect() as conn:
        assert day_totals.totals_upto(conn) == 153
    with engine.connect() as conn:
        partials = conn.execute(
            text(
                "SELECT count(*) FROM audit_day_totals GROUP BY actor, day, action, "
                "resource, outcome HAVING count(*) > 1"
            )
        ).all()
    assert partials  # the late entries are a second row of their days, summed on reading
    for window in windows():
        assert ledger.activity("alice", **window) == counted(engine, "alice", **window)


def test_archived_entries_are_not_counted_from_the_totals(engine: Engine) -> None:
    signed = dated(engine, START, timedelta(minutes=41), signing_key=Ed25519PrivateKey.generate())
    fill(signed, 200)
    before = {a: signed.activity(a) for a in ACTORS}  # sums every day
    assert totals_rows(engine) > 0
    segment = signed.seal_archive(77)  # cuts a day in two
    signed.remove_archived(segment.manifest)
    for actor in ACTORS:
        after = signed.activity(actor)
        assert after == counted(engine, actor)
        assert sum(d.events for d in after) < sum(d.events for d in before[actor])
        for window in windows():
            assert signed.activity(actor, **window) == counted(engine, actor, **window)


def test_a_readers_scope_applies_to_the_totals(engine: Engine) -> None:
    fill(dated(engine, START, timedelta(minutes=37)), 150)
    ledger = Ledger(engine, KEY)
    team = [audit_ledger.c.actor.in_(["alice", "bob"])]
    assert ledger.activity("alice", where=team) == counted(engine, "alice")
    assert ledger.activity("alice", where=team) != []
    assert ledger.activity("carol", where=team) == []  # out of scope, though summed
    # A clause on a column the totals lack is counted from the ledger, still scoped.
    web = [audit_ledger.c.channel == "system"]
    api = [audit_ledger.c.channel == "api"]
    assert ledger.activity("alice", where=web) == counted(engine, "alice")
    assert ledger.activity("alice", where=api) == []


def test_catch_ups_at_the_same_time_sum_each_entry_once(engine: Engine) -> None:
    fill(dated(engine, START, timedelta(minutes=20)), 400)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def catch_up() -> None:
        barrier.wait()
        try:
            with engine.begin() as conn:
                day_totals.catch_up(conn, datetime.now(UTC), batch=37)
        except DBAPIError as exc:  # SQLite may refuse a second writer: nothing half-done
            errors.append(exc)

    threads = [threading.Thread(target=catch_up) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) < 4
    with engine.connect() as conn:
        summed = conn.execute(text("SELECT sum(events) FROM audit_day_totals")).scalar_one()
        mark = day_totals.totals_upto(conn)
    assert summed == mark == 400
    for actor in ACTORS:
        assert Ledger(engine, KEY).activity(actor) == counted(engine, actor)


def test_the_totals_refuse_edits_like_the_ledger(engine: Engine) -> None:
    ledger = dated(engine, START, timedelta(minutes=37))
    fill(ledger, 100)
    expected = ledger.activity("alice")
    for statement in (
        "DELETE FROM audit_day_totals WHERE actor = 'alice'",
        "UPDATE audit_day_totals SET events = 0 WHERE actor = 'alice'",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert ledger.activity("alice") == expected


def test_a_read_only_copy_answers_from_what_the_totals_hold(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    writable = create_engine(f"sqlite:///{path}")
    create_tables(writable)
    fill(dated(writable, START, timedelta(minutes=37)), 100)
    Ledger(writable, KEY).activity("alice")  # sums those days
    fill(dated(writable, START + timedelta(days=5), timedelta(minutes=37)), 50, offset=100)
    expected = counted(writable, "alice")
    writable.dispose()
    read_only = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert Ledger(read_only, KEY).activity("alice") == expected
    finally:
        read_only.dispose()


def test_a_year_is_read_from_the_totals_in_group_order(engine: Engine) -> None:
    """SQLite: the totals are read in their key's order (no sort), and the user's (actor,
    day) index only over the days not summed (today's, the window's partial ones)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the plans are checked on SQLite; PostgreSQL's are in docs/PERFORMANCE.md")
    fill(dated(engine, START, timedelta(minutes=37)), 100)
    ledger = Ledger(engine, KEY)
    ledger.activity("alice")
    sent: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "GROUP BY" in statement:
            sent.append((statement, params))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        ledger.activity("alice", START + timedelta(hours=1), START + timedelta(days=30))
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    plans = {}
    with engine.connect() as conn:
        for statement, params in sent:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            plans[statement] = " ".join(str(row[-1]) for row in rows)
    on_totals = [p for s, p in plans.items() if "audit_day_totals" in s]
    assert len(on_totals) == 1
    assert "sqlite_autoindex_audit_day_totals" in on_totals[0]
    assert "TEMP B-TREE" not in on_totals[0]
    on_ledger = [p for s, p in plans.items() if "audit_day_totals" not in s]
    assert len(on_ledger) == 2
    for plan in on_ledger:
        assert "ix_audit_ledger_actor_day (actor=? AND <expr>" in plan


def test_entries_committed_together_are_summed_together(engine: Engine) -> None:
    """A batch of appends shares one time: the day's last batch is summed whole."""
    fill(Ledger(engine, KEY, clock=lambda: START), 3)
    fill(Ledger(engine, KEY, clock=lambda: START + timedelta(hours=1)), 40, offset=3)
    ledger = Ledger(engine, KEY)
    assert ledger.sum_days() == 43
    assert ledger.activity("bob") == counted(engine, "bob")


def _unguard_totals(engine: Engine) -> None:
    """What someone hiding their activity from the owner's chart must do first."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_day_totals_no_update"))
            conn.execute(text("DROP TRIGGER audit_day_totals_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_day_totals_no_update_delete ON audit_day_totals"))


def _first_of(engine: Engine, actor: str, action: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT min(seq) FROM audit_ledger WHERE actor = :a AND action = :x "
                    "AND outcome = 'allowed' AND resource = 'contact' "
                    "AND substr(ts, 1, 10) = :d"
                ),
                {"a": actor, "x": action, "d": START.date().isoformat()},
            ).scalar_one()
        )


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE audit_day_totals SET events = events - 1 WHERE actor = 'alice' "
        "AND action = 'export' AND outcome = 'allowed' AND day = :d",
        "UPDATE audit_day_totals SET records = 0 WHERE actor = 'alice' "
        "AND action = 'export' AND outcome = 'allowed' AND day = :d",
        "DELETE FROM audit_day_totals WHERE actor = 'alice' "
        "AND action = 'export' AND outcome = 'allowed' AND day = :d",
        "UPDATE audit_day_totals SET actor = 'dave' WHERE actor = 'alice' "
        "AND action = 'export' AND outcome = 'allowed' AND day = :d",
    ],
)
def test_verify_catches_edited_totals(engine: Engine, edit: str) -> None:
    ledger = dated(engine, START, timedelta(minutes=37))
    fill(ledger, 150)
    assert ledger.sum_days() == 150
    assert ledger.verify().ok
    _unguard_totals(engine)
    with engine.begin() as conn:
        assert conn.execute(text(edit), {"d": START.date().isoformat()}).rowcount == 1
    result = ledger.verify()
    assert not result.ok
    assert result.kind == "miscounted"
    assert result.checked == 150  # the chain itself is proven
    assert "alice" in str(result.problem) and START.date().isoformat() in str(result.problem)
    assert result.first_bad_seq == _first_of(engine, "alice", "export")


def test_verify_catches_totals_slipped_in_without_dropping_anything(engine: Engine) -> None:
    """The totals take INSERTs (that is how they grow): a row crediting a colleague with
    an export they never made needs no trigger dropped, and is caught all the same."""
    ledger = dated(engine, START, timedelta(minutes=37))
    fill(ledger, 90)
    ledger.sum_days()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_day_totals (actor, day, action, resource, outcome, upto,"
                " first_seq, events, records) VALUES ('carol', :d, 'export', 'contact',"
                " 'allowed', 1, 1, 1, 5000)"
            ),
            {"d": START.date().isoformat()},
        )
    result = ledger.verify()
    assert (result.ok, result.kind) == (False, "miscounted")
    assert "carol" in str(result.problem)


def test_verify_catches_a_progress_mark_moved(engine: Engine) -> None:
    """The mark is not guarded (it moves): moved ahead, the totals miss entries they
    claim to hold; put back, a catch-up sums days twice. Either way verify says so."""
    ledger = dated(engine, START, timedelta(minutes=37))
    fill(ledger, 90)
    ledger.sum_days()
    fill(dated(engine, START + timedelta(days=4), timedelta(minutes=37)), 30, offset=90)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_totals_progress SET totals_upto = 120"))
    ahead = ledger.verify()
    assert (ahead.ok, ahead.kind) == (False, "miscounted")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_totals_progress SET totals_upto = 0"))
    assert Ledger(engine, KEY).sum_days() == 120
    assert Ledger(engine, KEY).activity("alice") != counted(engine, "alice")  # doubled
    twice = ledger.verify()
    assert (twice.ok, twice.kind) == (False, "miscounted")


def test_verify_passes_intact_totals_across_archives_and_late_clocks(engine: Engine) -> None:
    signed = dated(engine, START, timedelta(minutes=41), signing_key=Ed25519PrivateKey.generate())
    fill(signed, 200)
    fill(dated(engine, START + timedelta(hours=3), timedelta(minutes=5)), 20, offset=200)
    signed.sum_days()
    fill(dated(engine, START + timedelta(hours=9), timedelta(minutes=5)), 20, offset=220)
    fill(dated(engine, START + timedelta(days=8), timedelta(minutes=5)), 5, offset=240)
    assert signed.sum_days() == 245
    assert signed.verify().ok
    segment = signed.seal_archive(77)  # cuts a day in two
    signed.remove_archived(segment.manifest)
    result = signed.verify()
    assert result.ok, result.problem
    assert result.notes == ()


def test_verify_without_the_totals_tables_notes_it(engine: Engine) -> None:
    ledger = dated(engine, START, timedelta(minutes=37))
    fill(ledger, 30)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_totals_progress"))
    result = ledger.verify()
    assert result.ok
    assert result.notes == ("the day totals table audit_totals_progress is missing: "
                            "totals not compared",)  # fmt: skip


@pytest.mark.parametrize("marked_days_later", [3, 0])
def test_verify_is_not_blinded_by_a_day_made_to_look_archived(
    engine: Engine, marked_days_later: int
) -> None:
    """A user's day whose totals claim archived entries is counted from the ledger when
    asked, so marking one is harmless; it must not make verify skip the days before it,
    nor another user's same day."""
    ledger = dated(engine, START, timedelta(minutes=37))
    fill(ledger, 200)
    ledger.sum_days()
    _unguard_totals(engine)
    later = (START + timedelta(days=marked_days_later)).date().isoformat()
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_day_totals SET events = events - 1 WHERE actor = 'alice' "
                "AND action = 'export' AND outcome = 'allowed' AND day = :d"
            ),
            {"d": START.date().isoformat()},
        )
        conn.execute(
            text("UPDATE audit_day_totals SET first_seq = 0 WHERE actor = 'bob' AND day = :d"),
            {"d": later},
        )
    assert ledger.activity("bob") == counted(engine, "bob")  # the marked day: from the ledger
    assert ledger.activity("alice") != counted(engine, "alice")  # what was edited shows...
    result = ledger.verify()  # ... and verify names it
    assert (result.ok, result.kind) == (False, "miscounted")
    assert "alice" in str(result.problem)


def test_an_activity_question_without_the_totals_is_right_or_loud(engine: Engine) -> None:
    """Without the mark every entry is counted from the ledger (right); without the
    totals the question fails naming the table (loud); never a wrong answer."""
    from audit import LedgerReadError

    ledger = dated(engine, START, timedelta(minutes=37))
    fill(ledger, 60)
    expected = ledger.activity("alice")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_totals_progress"))
    assert ledger.activity("alice") == expected == counted(engine, "alice")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_day_totals"))
    assert ledger.activity("alice") == expected  # no mark: the totals are not read
    create_tables(engine)  # the progress table back, its mark still at 0: ...
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_day_totals"))
        conn.execute(text("INSERT INTO audit_totals_progress (id, totals_upto) VALUES (1, 60)"))
    with pytest.raises(LedgerReadError, match="audit_day_totals"):
        ledger.activity("alice")  # ... a mark with no totals behind it is loud
