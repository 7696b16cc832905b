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
from importlib import import_module
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, func, select

from access import active_restrictions, add_restriction
from alerts import store
from alerts.channels import Channel, build_channels
from alerts.errors import AlertsError, ChannelConfigError
from alerts.live import Detection, LiveLoop, read_cursor
from alerts.model import Alert, Response, Status
from alerts.outbox import ChannelStatus, Outbox, routes_of
from alerts.response import RESTRICTION_OF
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
    return Outbox(
        engine, chans, base_delay=a.retry_base_seconds, max_delay=a.retry_max_seconds
    )


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

    @property
    def healthy(self) -> bool:
        return self.config_error is None and all(c.healthy for c in self.channels)

    def to_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "config_error": self.config_error,
            "detection": {"cursor": self.cursor, "ledger_head": self.head},
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
        if decision.scope != "all":
            raise self.crm.deny(
                ctx,
                decision,
                details={"reason": "alerts need audit.read on the whole ledger"},
                error=AccessDenied(
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
        self.crm.record(
            self.crm.event(ctx, "audit.read", "audit", count=count, details=details)
        )

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


def detection_factory(settings: Settings) -> DetectionFactory | None:
    """The detection engine built from the home's alert rules, when the room has one.

    Detection lives in ``alerts.engine`` / ``alerts.rules``; until they are installed the
    daemon delivers and keeps the cursor still, so no event is skipped once they arrive.
    """
    try:
        engine_mod: Any = import_module("alerts.engine")
        rules_mod: Any = import_module("alerts.rules")
    except ModuleNotFoundError:
        return None
    path = settings.policy_dir / "alerts.toml"
    rules = rules_mod.load_rules(path) if path.exists() else rules_mod.default_rules()
    return lambda: engine_mod.DetectionEngine(rules)


class AlertWorkers:
    """The live loop and the delivery worker, each in a thread, stopped together."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        ledger: Ledger,
        make_detection: DetectionFactory | None,
    ) -> None:
        self.stop_event = threading.Event()
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
            stop.wait(self.delivery_interval)

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)


def start_workers(
    settings: Settings,
    engine: Engine,
    ledger: Ledger,
    make_detection: DetectionFactory | None = None,
) -> AlertWorkers:
    """Start live detection (when there is detection) and delivery for the daemon."""
    factory = make_detection or detection_factory(settings)
    if factory is None:
        log.warning("alerts.no_detection", detail="delivery only; the cursor waits")
    return AlertWorkers(settings, engine, ledger, factory).start()

