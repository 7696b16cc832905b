"""crmguard/alerting.py: who may read and change alerts (decided and recorded), and the
response door: a departing user's export raises an alert whose freeze refuses the next
export, reversibly. Real database, real policy, real restrictions."""

from __future__ import annotations

import io
import json
import stat
import time
from datetime import timedelta
from pathlib import Path

import pytest

from access import active_restrictions, add_restriction, lift_restriction
from alerts import store
from alerts.errors import AlertsError
from alerts.live import LiveLoop
from alerts.model import Event, Finding, Response
from crmguard.alerting import AlertingService, RestrictionResponder
from crmguard.app import App
from crmguard.service import AccessDenied
from crmguard.settings import Settings
from tests.crmguard.world import World

SETTINGS = """
[alerts.channels.file]
type = "file"
path = "alerts.jsonl"
"""


class DepartingDetector:
    """Test detection: any export attempt (allowed or refused) by a user flagged departing
    is high severity, and the rule asks for ``response``."""

    warmup = timedelta(days=1)

    def __init__(self, response: Response = "freeze_exports") -> None:
        self.departing: set[str] = set()
        self.response: Response = response

    def process(self, event: Event) -> list[Finding]:
        if event.action == "restrict" and event.details.get("restriction") == "departing":
            self.departing.update(str(u) for u in event.record_ids)
            return []
        if event.action != "export" or event.actor not in self.departing:
            return []
        return [
            Finding(
                ts=event.ts, user=event.actor, rule="departing_export", severity="high",
                score=1.0, summary=f"{event.actor} (departing) tried to export {event.resource}",
                evidence={"seq_range": [event.seq, event.seq], "outcome": event.outcome},
                first_ts=event.ts, last_ts=event.ts, response=self.response,
            )
        ]  # fmt: skip

    def close(self, user: str, rule: str) -> None:
        pass

    def false_positive(self, user: str, rule: str) -> None:
        pass


def _app(world: World, home: Path) -> App:
    home.mkdir(exist_ok=True)
    (home / "crmguard.toml").write_text(SETTINGS)
    settings = Settings.load(home, env={"CRMGUARD_DATABASE_URL": world.url})
    crm = world.crm
    return App(settings, crm.engine, crm.access, crm.ledger, crm)


def _flag_departing(world: World, user: str) -> int:
    by = world.data.security
    with world.crm.engine.begin() as conn:
        r = add_restriction(conn, user, "departing", reason="leaves Friday", created_by=by)
        world.crm.record(
            world.crm.event(
                world.ctx(by, "cli"), "restrict", "user", record_ids=[user],
                details={"restriction": "departing"},
            ),
            conn,
        )  # fmt: skip
    return r.id


def _live(world: World, response: Response = "freeze_exports") -> LiveLoop:
    loop = LiveLoop(
        world.crm.engine,
        world.crm.ledger,
        lambda: DepartingDetector(response),
        routes={"file": "low"},
        responder=RestrictionResponder(world.crm.ledger),
    )
    loop.start()
    return loop


def test_departing_export_raises_an_alert_and_its_freeze_refuses_the_next_export(
    world: World, tmp_path: Path
) -> None:
    user = world.data.departing
    loop = _live(world)
    departing_id = _flag_departing(world, user)
    with pytest.raises(AccessDenied, match="departing"):
        world.crm.export(world.ctx(user), "contact", io.StringIO())
    while loop.step():
        pass
    [handled] = loop.handled
    assert handled.new and handled.responded and handled.channels == ("file",)

    with world.crm.engine.connect() as conn:
        kinds = {r.kind for r in active_restrictions(conn, user)}
    assert kinds == {"departing", "exports_frozen"}
    [restrict] = [e for e in world.crm.ledger.entries(actor="system:alerts", action="restrict")]
    assert restrict.record_ids == (user,)
    assert restrict.details["restriction"] == "exports_frozen"
    assert restrict.details["by"] == "system:alerts"
    assert restrict.details["alert"] == handled.alert_id

    # Even with the departing flag lifted, the freeze holds: the next export is refused.
    with world.crm.engine.begin() as conn:
        lift_restriction(conn, departing_id, lifted_by=world.data.security)
    out = io.StringIO()
    with pytest.raises(AccessDenied, match="exports are frozen"):
        world.crm.export(world.ctx(user), "contact", out)
    assert out.getvalue() == ""

    # Security reverses it like any restriction.
    with world.crm.engine.begin() as conn:
        frozen = next(r for r in active_restrictions(conn, user) if r.kind == "exports_frozen")
        lift_restriction(conn, frozen.id, lifted_by=world.data.security)
    assert world.crm.export(world.ctx(user), "contact", io.StringIO()).count > 0


def test_a_suspend_response_refuses_everything_and_is_placed_once(world: World) -> None:
    user = world.data.departing
    loop = _live(world, "suspend")
    _flag_departing(world, user)
    for _ in range(2):
        with pytest.raises(AccessDenied):
            world.crm.export(world.ctx(user), "contact", io.StringIO())
    while loop.step():
        pass
    with world.crm.engine.connect() as conn:
        suspended = [r for r in active_restrictions(conn, user) if r.kind == "suspended"]
    assert len(suspended) == 1  # the second finding repeats the alert: no second response
    with pytest.raises(AccessDenied, match="suspended"):
        world.crm.list(world.ctx(user), "contact")


def _one_alert(world: World, user: str) -> int:
    now = world.crm.clock()
    with world.crm.engine.begin() as conn:
        alert = store.record_finding(
            conn,
            world.crm.ledger,
            Finding(
                ts=now, user=user, rule="bulk_export", severity="high", score=3.0,
                summary=f"{user} exported 900 contacts", evidence={"count": 900},
                first_ts=now, last_ts=now,
            ),
            now,
        ).alert  # fmt: skip
    return alert.id


def test_only_security_staff_read_alerts_and_every_refusal_is_recorded(
    world: World, tmp_path: Path
) -> None:
    service = AlertingService(_app(world, tmp_path / "home"))
    alert_id = _one_alert(world, world.data.rep_same_team)
    for outsider in (world.data.rep_same_team, world.data.departing, world.data.admin):
        with pytest.raises(AccessDenied):
            service.list(world.ctx(outsider))
        with pytest.raises(AccessDenied):
            service.show(world.ctx(outsider), alert_id)
        denied = list(world.crm.ledger.entries(actor=outsider, outcome="denied"))
        assert len(denied) >= 2
    # The subject of an alert cannot make it go away.
    with pytest.raises(AccessDenied):
        service.change(world.ctx(world.data.rep_same_team), alert_id, "resolved")
    for reader in (world.data.security, world.data.auditor, world.data.owner):
        assert [a.id for a in service.list(world.ctx(reader))] == [alert_id]
        reads = list(world.crm.ledger.entries(actor=reader, action="audit.read"))
        assert reads and reads[0].details["kind"] == "alerts.list"
    with world.crm.engine.connect() as conn:
        assert store.get_alert(conn, alert_id).status == "open"


def test_security_and_the_owner_change_alerts_auditors_only_read(
    world: World, tmp_path: Path
) -> None:
    service = AlertingService(_app(world, tmp_path / "home"))
    first = _one_alert(world, world.data.rep_same_team)
    with pytest.raises(AccessDenied):
        service.change(world.ctx(world.data.auditor), first, "acknowledged")
    acked = service.change(world.ctx(world.data.security, "cli"), first, "acknowledged")
    assert acked.status_by == world.data.security
    done = service.change(world.ctx(world.data.owner), first, "false_positive", "month end")
    assert done.status == "false_positive"
    events = [
        (e.actor, e.action, e.details.get("note"))
        for e in world.crm.ledger.entries(resource="alert")
    ]
    assert events[-2:] == [
        (world.data.security, "alert.ack", None),
        (world.data.owner, "alert.false_positive", "month end"),
    ]
    with pytest.raises(AlertsError, match="is false_positive"):
        service.change(world.ctx(world.data.security), first, "resolved")


def test_status_and_test_channel(world: World, tmp_path: Path) -> None:
    home = tmp_path / "home"
    service = AlertingService(_app(world, home))
    sec = world.ctx(world.data.security)
    report = service.status(sec)
    assert report.healthy and report.cursor is None
    assert [c.channel for c in report.channels] == ["file"]
    assert service.test_channel(sec, "file") == f"file {home / 'alerts.jsonl'}"
    line = json.loads((home / "alerts.jsonl").read_text())
    assert line == {"kind": "test", "channel": "file", "severity": "low"}
    assert stat.S_IMODE((home / "alerts.jsonl").stat().st_mode) == 0o600
    with pytest.raises(AlertsError, match=r"no channel 'mail' .*known: file"):
        service.test_channel(sec, "mail")
    with pytest.raises(AccessDenied):
        service.test_channel(world.ctx(world.data.auditor), "file")


def test_the_daemon_workers_detect_and_deliver(world: World, tmp_path: Path) -> None:
    """What ``crmguard daemon`` starts: the live loop and the delivery worker, together."""
    from crmguard.alerting import start_workers

    home = tmp_path / "home"
    app = _app(world, home)
    user = world.data.departing
    _flag_departing(world, user)
    workers = start_workers(
        app.settings, world.crm.engine, world.crm.ledger, lambda: DepartingDetector()
    )
    try:
        with pytest.raises(AccessDenied):
            world.crm.export(world.ctx(user), "contact", io.StringIO())
        path = home / "alerts.jsonl"
        deadline = time.monotonic() + 30
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        workers.stop()
    [line] = path.read_text().splitlines()
    message = json.loads(line)
    assert (message["kind"], message["user"], message["rule"]) == (
        "raised",
        user,
        "departing_export",
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
