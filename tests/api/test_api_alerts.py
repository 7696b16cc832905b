"""The alert inbox over HTTP: the same service and rules as ``crmguard alerts``.

Security staff read and work the inbox; nobody else reads it (a rep must not learn who
is being watched, nor the subject of an alert what it says), and every call is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alerts.model import Finding
from alerts.store import record_finding
from tests.api.server import Server


def _raise(server: Server, user: str) -> int:
    now = datetime.now(UTC)
    finding = Finding(
        ts=now,
        user=user,
        rule="burst",
        severity="high",
        score=9.0,
        summary=f"{user} read 400 records in a minute; usually under 20",
        evidence={"count": 400, "seq_from": 1, "seq_to": 2},
        first_ts=now,
        last_ts=now,
    )
    with server.crm.engine.begin() as conn:
        stored = record_finding(conn, server.app.ledger, finding, now)
    return int(stored.alert.id)


def test_security_works_the_inbox_and_outsiders_are_refused(server: Server) -> None:
    d = server.world.data
    alert_id = _raise(server, d.departing)
    with server.client(d.security) as security:
        listed = security.get("/api/alerts", params={"status": "open"})
        assert listed.status_code == 200, listed.text
        assert [a["id"] for a in listed.json()] == [alert_id]
        assert "cache-control" in listed.headers and "no-store" in listed.headers["cache-control"]
        shown = security.get(f"/api/alerts/{alert_id}").json()
        assert shown["user"] == d.departing and shown["evidence"]["count"] == 400
        acked = security.post(f"/api/alerts/{alert_id}/ack", json={"note": "calling him"})
        assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
        done = security.post(f"/api/alerts/{alert_id}/resolve")
        assert done.status_code == 200 and done.json()["status"] == "resolved"
        again = security.post(f"/api/alerts/{alert_id}/ack")
        assert again.status_code in (409, 422), again.text  # a closed alert stays closed
        assert security.get("/api/alerts/999999").status_code == 404
        assert security.get("/api/alerts/status").status_code == 200
    for outsider in (d.rep_same_team, d.departing, d.admin):
        with server.client(outsider) as client:
            assert client.get("/api/alerts").status_code == 403
            assert client.post(f"/api/alerts/{alert_id}/false-positive").status_code == 403
    changes = [e.action for e in server.app.ledger.entries(resource="alert")]
    assert changes[:3] == ["alert.raise", "alert.ack", "alert.resolve"]
    refused = list(server.app.ledger.entries(actor=d.rep_same_team, outcome="denied"))
    assert refused, "a refused look at the inbox is in the ledger"
