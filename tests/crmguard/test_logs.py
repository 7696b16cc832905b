"""One redaction processor keeps secrets and personal data out of application logs."""

from __future__ import annotations

import structlog

from crmguard import logs


def test_redact_scrubs_secret_keys_personal_fields_and_values() -> None:
    event = {
        "event": "export for jane.doe@example.com from +44 20 7946 0958",
        "password": "hunter2",
        "aws_secret_access_key": "AKIA...",
        "token": "t0k3n",
        "email": "x@y.z",
        "phone": "12345",
        "count": 3,
        "nested": {"api_key": "k", "rows": 5, "note": "call +33 1 23 45 67 89"},
        "ids": [1, 2, 3],
    }
    out = logs.redact(None, "info", dict(event))
    assert out["password"] == out["token"] == out["aws_secret_access_key"] == logs.REDACTED
    assert out["email"] == out["phone"] == logs.REDACTED
    assert "jane.doe@example.com" not in out["event"] and "7946" not in out["event"]
    assert out["count"] == 3 and out["ids"] == [1, 2, 3]
    assert out["nested"]["api_key"] == logs.REDACTED
    assert "+33" not in out["nested"]["note"]


def test_redact_leaves_times_addresses_and_counts_alone() -> None:
    event = {
        "event": "job ran",
        "scheduled_for": "2026-11-22T13:09:53.266322+00:00",
        "ip": "10.0.3.4",
        "seq": "12345678",
    }
    assert logs.redact(None, "info", dict(event)) == event


def test_configured_logger_never_prints_a_secret(capsys) -> None:  # type: ignore[no-untyped-def]
    logs.configure("info")
    try:
        structlog.get_logger().info(
            "key loaded", passphrase="correct horse", who="ops@corp.example"
        )
    finally:
        structlog.reset_defaults()
    err = capsys.readouterr().err
    assert "key loaded" in err
    assert "correct horse" not in err and "ops@corp.example" not in err


def test_what_was_asked_never_reaches_a_log() -> None:
    # Search text and filter values are evidence for the ledger, personal data in a log.
    event = {
        "event": "contact search",
        "text": "Kowalski",
        "q": "Kowalski",
        "filters": {"city": "Leeds", "owner_id": 7},
        "query": {"actor": "ann", "record": "contact:42"},
        "details": {"text": "Kowalski"},
        "order_by": "last_name",
        "count": 2,
    }
    out = logs.redact(None, "info", dict(event))
    assert "Kowalski" not in str(out) and "Leeds" not in str(out)
    assert out["count"] == 2 and out["event"] == "contact search"


def test_a_ledger_event_in_a_log_keeps_who_and_what_only() -> None:
    from audit import AuditEvent

    event = AuditEvent("ann", "search", "contact", (1, 2), 2, details={"text": "Kowalski"})
    out = logs.redact(None, "info", {"event": "appended", "entry": event, "items": [event]})
    assert out["entry"] == "ann search contact"
    assert "Kowalski" not in str(out)


def test_configured_logger_never_prints_search_text(capsys) -> None:  # type: ignore[no-untyped-def]
    logs.configure("debug", json=True)
    try:
        structlog.get_logger().debug(
            "search", text="28 41 71 Kowalski", filters={"city": "Leeds"}, count=3
        )
    finally:
        structlog.reset_defaults()
    err = capsys.readouterr().err
    assert '"count": 3' in err
    assert "Kowalski" not in err and "Leeds" not in err and "28 41" not in err
