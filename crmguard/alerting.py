"""The shell's side of the alerts room: who may read and change alerts, the restriction
door the room responds through, and the workers the daemon runs.

Reading alerts needs ``audit.read`` on the whole ledger (security, auditors, the owner);
changing one (ack, resolve, false positive) or sending a test message also needs
``restrict`` on ``user``, the right to respond to a leak (security and the owner). Every
read is recorded like a ledger read; every change is an ``alert.*`` ledger event written
with the change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, func, select

import crm_models
from access import active_restrictions, add_restriction
from alerts import store
from alerts.channels import Channel, build_channels
from alerts.engine import DetectionEngine
from alerts.errors import AlertsError, ChannelConfigError, RulesError
from alerts.live import Detection, LiveLoop, read_cursor
from alerts.model import Alert, Response, Status
from alerts.native import NativeStatus
from alerts.native import status as native_status
from alerts.outbox import ChannelStatus, Outbox, routes_of
from alerts.response import RESTRICTION_OF
from alerts.rules import Rules, RulesHolder
from alerts.schema import alerts as alerts_table
from audit import AuditEvent, Ledger, audit_ledger
from crmguard.app import App
from crmguard.service import AccessDenied, RequestContext
from crmguard.settings import Settings

log = structlog.get_logger("crmguard.alerting")

DetectionFactory = Callable[[], Detection]


def channels(settings: Settings) -> dict[str, Channel]:
    """The configured channels, validated, secrets resolved (never logged)."""
    return build_channels(settings.alerts.channels, base_dir=settings.home)


def outbox_for(settings: Settings, engine: Engine, chans: dict[str, Channel]) -> Outbox:
    a = settings.alerts
    return Outbox(engine, chans, base_delay=a.retry_base_seconds, max_delay=a.retry_max_seconds)


class RestrictionResponder:
    """Places ``exports_frozen`` / ``suspended`` for the alerts room, with its ledger event."""

    actor = store.SYSTEM_ACTOR

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def respond(self, conn: Connection, user: str, response: Response, alert: Alert) -> bool:
        kind = RESTRICTION_OF[response]
        if any(r.kind == kind for r in active_restrictions(conn, user)):
            return False
        restriction = add_restriction(
            conn,
            username=user,
            kind=kind,
            reason=f"alert #{alert.id} ({alert.rule}, {alert.severity})",
            created_by=self.actor,
        )
        self.ledger.append_in(
            conn,
            AuditEvent(
                actor=self.actor,
                action="restrict",
                resource="user",
                record_ids=(user,),
                count=1,
                channel="system",
                details={
                    "restriction": kind,
                    "by": self.actor,
                    "alert": alert.id,
                    "restriction_id": restriction.id,
                },
            ),
        )
        log.warning("alerts.response", alert_id=alert.id, restriction=kind)
        return True


@dataclass(frozen=True)
class AlertsStatus:
    """``crmguard alerts status``: delivery per channel and how far detection has read."""

    channels: list[ChannelStatus]
    config_error: str | None
    cursor: int | None
    head: int
    open: int
    acknowledged: int
    #: this install's detectors: compiled, or pure Python and why (alerts.native)
    native: NativeStatus

    @property
    def healthy(self) -> bool:
        return self.config_error is None and all(c.healthy for c in self.channels)

    def to_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "config_error": self.config_error,
            "detection": {
                "cursor": self.cursor,
                "ledger_head": self.head,
                "compiled": self.native.compiled,
                "pure_python_reason": self.native.reason or None,
            },
            "alerts": {"open": self.open, "acknowledged": self.acknowledged},
            "channels": [c.to_json() for c in self.channels],
        }


class AlertingService:
    """The operations behind ``crmguard alerts``; the CLI holds no rule of its own."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.crm = app.crm

    # -- decisions ---------------------------------------------------------------------

    def _may_read(self, conn: Connection, ctx: RequestContext) -> None:
        decision = self.crm.require(conn, ctx, "audit.read", "audit")
        self.crm.require_all(
            ctx,
            decision,
            "alerts need audit.read on the whole ledger",
            AccessDenied(
                ctx.principal.username,
                "read",
                "alerts",
                "alerts are for security staff: audit.read on the whole ledger",
            ),
        )

    def _may_change(self, conn: Connection, ctx: RequestContext) -> None:
        self._may_read(conn, ctx)
        self.crm.require(conn, ctx, "restrict", "user")

    def _recorded_read(self, ctx: RequestContext, count: int, details: dict[str, Any]) -> None:
        self.crm.record(self.crm.event(ctx, "audit.read", "audit", count=count, details=details))

    # -- reads -------------------------------------------------------------------------

    def list(
        self, ctx: RequestContext, *, status: str | None = None, user: str | None = None,
        limit: int = 200,
    ) -> list[Alert]:  # fmt: skip
        with self.app.engine.connect() as conn:
            self._may_read(conn, ctx)
            found = store.list_alerts(conn, status=status, user=user, limit=limit)
        query = {k: v for k, v in {"status": status, "user": user}.items() if v}
        self._recorded_read(ctx, len(found), {"kind": "alerts.list", "query": query})
        return found

    def show(self, ctx: RequestContext, alert_id: int) -> Alert:
        with self.app.engine.connect() as conn:
            self._may_read(conn, ctx)
            alert = store.get_alert(conn, alert_id)
        self._recorded_read(ctx, 1, {"kind": "alerts.show", "alert": alert_id})
        return alert

    # -- lifecycle ---------------------------------------------------------------------

    def change(
        self, ctx: RequestContext, alert_id: int, status: Status, note: str | None = None
    ) -> Alert:
        """ack / resolve / false_positive. A false positive reaches detection through its
        ledger event (``alert.false_positive``), which the live loop turns into feedback."""
        with self.app.engine.begin() as conn:
            self._may_change(conn, ctx)
            return store.change_status(
                conn,
                self.crm.ledger,
                alert_id,
                status,
                by=ctx.principal.username,
                now=self.crm.clock(),
                channel=ctx.channel,
                ip=ctx.ip,
                request_id=ctx.request_id,
                note=note,
                os_user=ctx.os_user,
            )

    # -- delivery ----------------------------------------------------------------------

    def status(self, ctx: RequestContext) -> AlertsStatus:
        with self.app.engine.connect() as conn:
            self._may_read(conn, ctx)
            cursor = read_cursor(conn)
            head = int(conn.execute(select(func.max(audit_ledger.c.seq))).scalar() or 0)
            counts: dict[str, int] = {
                str(status): int(n)
                for status, n in conn.execute(
                    select(alerts_table.c.status, func.count()).group_by(alerts_table.c.status)
                )
            }
        config_error = None
        try:
            chans = channels(self.app.settings)
        except ChannelConfigError as exc:
            config_error, chans = str(exc), {}
        report = outbox_for(self.app.settings, self.app.engine, chans).status()
        self._recorded_read(ctx, 0, {"kind": "alerts.status"})
        return AlertsStatus(
            report,
            config_error,
            cursor,
            head,
            int(counts.get("open", 0)),
            int(counts.get("acknowledged", 0)),
            native_status(),
        )

    def test_channel(self, ctx: RequestContext, name: str) -> str:
        """Send a test message to channel ``name`` now (not through the outbox)."""
        with self.app.engine.connect() as conn:
            self._may_change(conn, ctx)
        chans = channels(self.app.settings)
        if name not in chans:
            known = ", ".join(chans) or "none configured"
            raise AlertsError(f"no channel {name!r} in [alerts.channels] (known: {known})")
        channel = chans[name]
        ok, problem = True, None
        try:
            channel.send({"kind": "test", "channel": name, "severity": "low"})
        except AlertsError as exc:
            ok, problem = False, str(exc)
        self.crm.record(
            self.crm.event(
                ctx,
                "alert.test",
                "alert",
                count=0,
                outcome="allowed" if ok else "error",
                details={"channel": name, "error": problem},
            )
        )
        if problem is not None:
            raise AlertsError(f"channel {name}: {problem}")
        return channel.describe()


# -- the daemon's workers ------------------------------------------------------------------


class RulesInForce:
    """The home's alert rules (``policies/alerts.toml``), hot-reloaded like the access
    policy: a malformed edit is named (file and line), recorded in the ledger as a
    rejected ``policy.reload`` (so it raises a system alert), and the last good rules stay
    in force. A malformed file at start falls back to the shipped defaults, recorded too.
    """

    def __init__(self, settings: Settings, ledger: Ledger) -> None:
        self.path = settings.policy_dir / "alerts.toml"
        self.ledger = ledger
        self._mtime = self._stamp()
        try:
            self.holder = RulesHolder(self.path if self.path.exists() else None)
        except RulesError as exc:
            self._rejected(exc)
            self.holder = RulesHolder(None)
        self.holder.path = self.path if self.path.exists() else None

    @property
    def rules(self) -> Rules:
        return self.holder.rules

    def _stamp(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def changed(self) -> Rules | None:
        """The reloaded rules if the file changed and is valid; None otherwise."""
        stamp = self._stamp()
        if stamp == self._mtime or stamp is None:
            return None
        self._mtime = stamp
        self.holder.path = self.path
        try:
            rules = self.holder.reload()
        except RulesError as exc:
            self._rejected(exc)
            return None
        self._record("allowed", {"file": str(self.path)})
        return rules

    def _rejected(self, exc: RulesError) -> None:
        log.error("alerts.rules_rejected", problem=str(exc))
        self._record("error", {"file": str(self.path), "error": str(exc)})

    def _record(self, outcome: str, details: dict[str, Any]) -> None:
        try:
            self.ledger.append(
                AuditEvent(
                    actor="system:daemon",
                    action="policy.reload",
                    resource="alerts",
                    outcome=outcome,  # type: ignore[arg-type]
                    channel="system",
                    details=details,
                )
            )
        except Exception as exc:  # the daemon outlives a ledger hiccup; the log has it
            log.error("alerts.rules_event_failed", problem=str(exc).splitlines()[0])


def peer_groups(engine: Engine) -> dict[str, str]:
    """user -> peer group (first role, and team when there is one) for the baselines."""
    users, teams = crm_models.User.__table__, crm_models.Team.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(users.c.username, users.c.roles, teams.c.name).select_from(
                users.outerjoin(teams, users.c.team_id == teams.c.id)
            )
        ).all()
    return {
        r[0]: f"{(r[1] or ['none'])[0]}@{r[2] or '-'}" if r[2] else (r[1] or ["none"])[0]
        for r in rows
    }


def detection_factory(
    settings: Settings, engine: Engine, ledger: Ledger
) -> tuple[DetectionFactory, RulesInForce]:
    """A factory of detection engines over the home's rules and the users' peer groups
    (each live-loop start builds a fresh engine; its state comes from the ledger)."""
    in_force = RulesInForce(settings, ledger)
    return (lambda: DetectionEngine(in_force.rules, peers=peer_groups(engine))), in_force


class AlertWorkers:
    """The live loop and the delivery worker, each in a thread, stopped together."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        ledger: Ledger,
        make_detection: DetectionFactory | None,
        rules: RulesInForce | None = None,
    ) -> None:
        self.stop_event = threading.Event()
        self.rules = rules
        chans = channels(settings)  # a malformed channel stops the daemon at start
        self.outbox = outbox_for(settings, engine, chans)
        self.live = (
            LiveLoop(
                engine,
                ledger,
                make_detection,
                routes=routes_of(chans.values()),
                responder=RestrictionResponder(ledger),
                poll_interval=settings.alerts.poll_interval,
            )
            if make_detection is not None
            else None
        )
        self.delivery_interval = settings.alerts.delivery_interval
        self.threads: list[threading.Thread] = []

    def start(self) -> AlertWorkers:
        if self.live is not None:
            self.threads.append(self._thread("alerts-live", self.live.run))
        self.threads.append(self._thread("alerts-delivery", self._deliver))
        return self

    def _thread(self, name: str, target: Callable[[threading.Event], None]) -> threading.Thread:
        thread = threading.Thread(target=target, args=(self.stop_event,), name=name, daemon=True)
        thread.start()
        return thread

    def _deliver(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.outbox.deliver_due()
            except Exception as exc:  # the worker outlives a database hiccup
                log.error("alerts.delivery_worker_failed", problem=str(exc).splitlines()[0])
            self._reload_rules()
            stop.wait(self.delivery_interval)

    def _reload_rules(self) -> None:
        """Swap edited rules into the running engine (learned state is kept)."""
        if self.rules is None or self.live is None:
            return
        rules = self.rules.changed()
        detection = self.live.detection
        if rules is not None and isinstance(detection, DetectionEngine):
            detection.rules = rules

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)


def catch_up(settings: Settings, engine: Engine, ledger: Ledger) -> int:
    """Run detection over every ledger event the live loop has not seen yet, once, and
    store what it finds (the demo does this after seeding a history, as the daemon would
    have done live); returns how many events were read."""
    factory, _rules = detection_factory(settings, engine, ledger)
    chans = channels(settings)
    loop = LiveLoop(
        engine,
        ledger,
        factory,
        routes=routes_of(chans.values()),
        responder=RestrictionResponder(ledger),
        poll_interval=settings.alerts.poll_interval,
    )
    loop.start()
    read = 0
    while True:
        n = loop.step()
        read += n
        if n == 0:
            return read


def start_workers(
    settings: Settings,
    engine: Engine,
    ledger: Ledger,
    make_detection: DetectionFactory | None = None,
) -> AlertWorkers:
    """Start live detection and delivery for the daemon (tests may hand in their own
    detection)."""
    if make_detection is not None:
        return AlertWorkers(settings, engine, ledger, make_detection).start()
    factory, rules = detection_factory(settings, engine, ledger)
    return AlertWorkers(settings, engine, ledger, factory, rules).start()
