"""``crmguard alerts``: the security inbox (list, show, ack, resolve, false-positive),
delivery state (status) and a channel check (test-channel). Every command acts as a
named person (``--as``), decided and recorded by :mod:`crmguard.alerting`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from crmguard.cli import alerts_replay
from crmguard.cli.common import console, print_json
from crmguard.cli.session import app_for, user_context

if TYPE_CHECKING:
    from alerts.model import Alert, Status

app = typer.Typer(
    help="Leak alerts: the inbox, delivery state, channel tests.", no_args_is_help=True
)

AS_HELP = "Security user acting (needs audit.read on the whole ledger; changes need restrict)."
_COLOR = {"low": "cyan", "medium": "yellow", "high": "red", "critical": "bold red"}


def _line(alert: Alert) -> str:
    color = _COLOR.get(alert.severity, "white")
    return (
        f"#{alert.id} [{color}]{alert.severity}[/] {alert.status} {escape(alert.user)} "
        f"{escape(alert.rule)} {alert.last_ts:%Y-%m-%d %H:%M}: {escape(alert.summary)}"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    status: str | None = typer.Option(
        None, "--status", help="open | acknowledged | resolved | false_positive | active"
    ),
    user: str | None = typer.Option(None, "--user", help="Only this user's alerts."),
    limit: int = typer.Option(200, "--limit", min=1, max=100_000),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Alerts, newest first."""
    from alerts.store import alert_to_json
    from crmguard.alerting import AlertingService

    with app_for(ctx) as crm_app:
        found = AlertingService(crm_app).list(
            user_context(crm_app, as_user), status=status, user=user, limit=limit
        )
    if as_json:
        print_json([alert_to_json(a) for a in found])
        return
    if not found:
        console.print("no alerts")
    for alert in found:
        console.print(_line(alert), highlight=False)


@app.command("show")
def show(
    ctx: typer.Context,
    alert_id: int = typer.Argument(..., help="Alert number."),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """One alert with its evidence (ledger seq range, counts, baseline, sample ids)."""
    from alerts.store import alert_to_json
    from crmguard.alerting import AlertingService

    with app_for(ctx) as crm_app:
        alert = AlertingService(crm_app).show(user_context(crm_app, as_user), alert_id)
    data = alert_to_json(alert)
    if as_json:
        print_json(data)
        return
    console.print(_line(alert), highlight=False)
    console.print(f"score {data['score']}  events {data['first_ts']} .. {data['last_ts']}")
    if alert.status_by:
        console.print(f"{alert.status} by {alert.status_by} at {data['status_at']}")
    for key, value in sorted(alert.evidence.items()):
        console.print(f"  {escape(key)}: {escape(str(value))}", highlight=False)


def _change(
    ctx: typer.Context, alert_id: int, as_user: str, status: Status, note: str | None
) -> None:
    from crmguard.alerting import AlertingService

    with app_for(ctx) as crm_app:
        alert = AlertingService(crm_app).change(
            user_context(crm_app, as_user), alert_id, status, note
        )
    console.print(
        f"alert #{alert.id} is {alert.status} (by {escape(alert.status_by or '')})",
        highlight=False,
    )


NOTE = typer.Option(None, "--note", help="Why (kept in the ledger).")


@app.command("ack")
def ack(
    ctx: typer.Context,
    alert_id: int = typer.Argument(..., help="Alert number."),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    note: str | None = NOTE,
) -> None:
    """Acknowledge: someone is looking at it."""
    _change(ctx, alert_id, as_user, "acknowledged", note)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    alert_id: int = typer.Argument(..., help="Alert number."),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    note: str | None = NOTE,
) -> None:
    """Resolve: handled; the next occurrence raises a new alert."""
    _change(ctx, alert_id, as_user, "resolved", note)


@app.command("false-positive")
def false_positive(
    ctx: typer.Context,
    alert_id: int = typer.Argument(..., help="Alert number."),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    note: str | None = NOTE,
) -> None:
    """Mark as a false positive: closed, and detection learns the user's baseline from it."""
    _change(ctx, alert_id, as_user, "false_positive", note)


@app.command("status")
def status(
    ctx: typer.Context,
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Delivery per channel and detection's place in the ledger. Exit 1 when a channel is
    failing or misconfigured (messages wait; none is dropped)."""
    from crmguard.alerting import AlertingService

    with app_for(ctx) as crm_app:
        report = AlertingService(crm_app).status(user_context(crm_app, as_user))
    if as_json:
        print_json(report.to_json())
    else:
        if report.config_error:
            console.print(
                f"[red]channel settings:[/] {escape(report.config_error)}", highlight=False
            )
        lag = report.head - (report.cursor or 0)
        where = "not started" if report.cursor is None else f"at ledger entry {report.cursor}"
        console.print(
            f"detection {where}, ledger head {report.head} ({lag} to read); "
            f"{report.open} open, {report.acknowledged} acknowledged; "
            f"detectors {report.native.describe()}",
            highlight=False,
        )
        for c in report.channels:
            state = "[green]ok[/]" if c.healthy else "[red]failing[/]"
            if not c.configured:
                state = "[yellow]not configured[/]"
            console.print(
                f"{escape(c.channel)}: {state} {escape(c.description)} "
                f"(min {c.min_severity or '-'}): "
                f"{c.delivered} delivered, {c.pending} pending",
                highlight=False,
            )
            if c.last_error:
                retry = f"; next try {c.next_attempt:%H:%M:%S}" if c.next_attempt else ""
                console.print(f"  last error: {escape(c.last_error)}{retry}", highlight=False)
    raise typer.Exit(0 if report.healthy else 1)


@app.command("test-channel")
def test_channel(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Channel name ([alerts.channels.NAME])."),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Send a test message through one channel now."""
    from crmguard.alerting import AlertingService

    with app_for(ctx) as crm_app:
        where = AlertingService(crm_app).test_channel(user_context(crm_app, as_user), name)
    console.print(f"test message sent: {escape(where)}", highlight=False)


# Replay needs no home: the offline contract for evaluating rules on exported ledgers.
alerts_replay.register(app)
