"""alerts/store.py: one active alert per user and rule, every raise and status change in
the ledger, evidence that carries ids and counts only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from alerts import store
from alerts.errors import AlertNotFound, AlertStateError
from alerts.schema import alerts as alerts_table
from tests.alerts.delivery_helpers import Db, db_fixture, finding  # noqa: F401

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _alert_events(db: Db) -> list[tuple[str, str, tuple[int | str, ...], dict[str, object]]]:
    return [
        (e.actor, e.action, e.record_ids, dict(e.details))
        for e in db.ledger.entries(resource="alert")
    ]


def test_a_finding_becomes_one_alert_and_one_raise_event(db: Db) -> None:
    with db.engine.begin() as conn:
        stored = store.record_finding(conn, db.ledger, finding(severity="medium"), NOW)
    assert stored.new and not stored.escalated
    a = stored.alert
    assert (a.user, a.rule, a.severity, a.status) == ("anna", "test_volume", "medium", "open")
    events = _alert_events(db)
    assert events == [
        (
            "system:alerts",
            "alert.raise",
            (a.id,),
            {
                "user": "anna",
                "rule": "test_volume",
                "severity": "medium",
                "score": 5.0,
                "escalation": False,
                "seq_range": [1, 9],
            },
        )
    ]
    assert db.ledger.verify().ok


def test_repeats_update_the_active_alert_and_only_a_rise_is_an_event(db: Db) -> None:
    with db.engine.begin() as conn:
        first = store.record_finding(conn, db.ledger, finding(severity="medium"), NOW).alert
        same = store.record_finding(conn, db.ledger, finding(severity="low", score=9), NOW)
        rise = store.record_finding(conn, db.ledger, finding(severity="critical"), NOW)
    assert not same.new and not same.escalated
    assert same.alert.id == first.id and same.alert.severity == "medium"  # never lowered
    assert same.alert.score == 9
    assert rise.escalated and rise.alert.id == first.id
    assert rise.alert.severity == "critical"
    with db.engine.connect() as conn:
        assert len(store.list_alerts(conn)) == 1
    raises = [d for _a, action, _r, d in _alert_events(db) if action == "alert.raise"]
    assert [d["escalation"] for d in raises] == [False, True]


def test_lifecycle_is_recorded_with_who_and_when(db: Db) -> None:
    with db.engine.begin() as conn:
        a = store.record_finding(conn, db.ledger, finding(), NOW).alert
        acked = store.change_status(conn, db.ledger, a.id, "acknowledged", by="sec", now=NOW)
        done = store.change_status(
            conn, db.ledger, a.id, "resolved", by="sec2", now=NOW, note="talked to her"
        )
    assert acked.status == "acknowledged" and acked.status_by == "sec"
    assert done.status == "resolved" and done.status_by == "sec2" and done.status_at == NOW
    actions = [(actor, action) for actor, action, _r, _d in _alert_events(db)]
    assert actions == [
        ("system:alerts", "alert.raise"),
        ("sec", "alert.ack"),
        ("sec2", "alert.resolve"),
    ]
    last = _alert_events(db)[-1][3]
    assert last == {
        "user": "anna",
        "rule": "test_volume",
        "from": "acknowledged",
        "to": "resolved",
        "note": "talked to her",
    }


def test_a_closed_alert_frees_the_pair_for_a_new_one(db: Db) -> None:
    with db.engine.begin() as conn:
        a = store.record_finding(conn, db.ledger, finding(), NOW).alert
        store.change_status(conn, db.ledger, a.id, "false_positive", by="sec", now=NOW)
        b = store.record_finding(conn, db.ledger, finding(), NOW)
    assert b.new and b.alert.id != a.id
    with db.engine.connect() as conn:
        assert [x.status for x in store.list_alerts(conn)] == ["open", "false_positive"]
        assert [x.id for x in store.list_alerts(conn, status="active")] == [b.alert.id]


@pytest.mark.parametrize(
    ("first", "then"),
    [("resolved", "acknowledged"), ("resolved", "resolved"), ("false_positive", "resolved")],
)
def test_no_way_back_from_a_closed_alert(db: Db, first: str, then: str) -> None:
    with db.engine.begin() as conn:
        a = store.record_finding(conn, db.ledger, finding(), NOW).alert
        store.change_status(conn, db.ledger, a.id, first, by="sec", now=NOW)  # type: ignore[arg-type]
    before = len(_alert_events(db))
    with pytest.raises(AlertStateError, match=f"is {first} by sec"), db.engine.begin() as conn:
        store.change_status(conn, db.ledger, a.id, then, by="x", now=NOW)  # type: ignore[arg-type]
    assert len(_alert_events(db)) == before  # a refused change writes nothing


def test_unknown_alert_and_unknown_status(db: Db) -> None:
    with pytest.raises(AlertNotFound, match="no alert #99"), db.engine.begin() as conn:
        store.change_status(conn, db.ledger, 99, "resolved", by="sec", now=NOW)
    with pytest.raises(AlertStateError, match="not 'open'"), db.engine.begin() as conn:
        store.change_status(conn, db.ledger, 1, "open", by="sec", now=NOW)
    with pytest.raises(AlertStateError, match="unknown status"), db.engine.connect() as conn:
        store.list_alerts(conn, status="opne")


def test_the_database_refuses_a_second_active_alert_for_a_pair(db: Db) -> None:
    """Even a writer that skips the store (a second daemon, a script) cannot fork a pair."""
    with db.engine.begin() as conn:
        store.record_finding(conn, db.ledger, finding(), NOW)
    row = {
        "username": "anna", "rule": "test_volume", "severity": "low", "score": 1.0,
        "summary": "dup", "evidence": "{}", "first_ts": NOW, "last_ts": NOW, "status": "open",
        "active_key": "anna/test_volume", "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(insert(alerts_table).values(**row))


def test_evidence_keeps_a_sample_of_ids_never_a_whole_export(db: Db) -> None:
    ids = list(range(10_000))
    with db.engine.begin() as conn:
        a = store.record_finding(
            conn, db.ledger, finding(evidence={"record_ids": ids, "count": 10_000}), NOW
        ).alert
    assert a.evidence["count"] == 10_000
    assert a.evidence["record_ids"] == ids[: store.MAX_EVIDENCE_IDS]
    with db.engine.connect() as conn:
        raw = conn.execute(select(alerts_table.c.evidence)).scalar_one()
    assert len(raw) < 1000
