"""``crmguard audit``: verify, export and query the ledger (each read is itself recorded)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from audit import OUTCOMES
from crmguard.app import App
from crmguard.cli.common import console, fail, friendly_errors, print_json
from crmguard.cli.session import app_for, operator, user_context
from crmguard.outfiles import check_target, output_file
from crmguard.service import RequestContext

app = typer.Typer(help="The tamper-evident ledger.", no_args_is_help=True)

AS_USER = typer.Option(
    None, "--as", help="Act as this user (needs audit.read); default: the home's operator."
)


def parse_time(value: str | None, name: str) -> datetime | None:
    """RFC 3339 / ISO 8601 (a date alone means midnight UTC); naive times are UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(
            f"{name} {value!r} is not a time like 2026-11-01 or 2026-11-01T09:00:00Z"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _context(crm_app: App, as_user: str | None) -> RequestContext:
    return user_context(crm_app, as_user) if as_user else operator(crm_app)


@app.command("verify")
@friendly_errors
def verify(
    ctx: typer.Context,
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Walk the chain. Exit 0 intact, 1 tampered, 2 could not run."""
    with app_for(ctx) as crm_app:
        result = crm_app.crm.audit_verify(_context(crm_app, as_user))
    if as_json:
        print_json(result.to_json())
    elif result.ok:
        console.print(f"[green]ledger intact[/]: {result.checked} events verified")
    else:
        console.print(
            f"[red]ledger TAMPERED[/] at seq {result.first_bad_seq}: {result.problem} "
            f"({result.checked} checked)",
            highlight=False,
        )
    raise typer.Exit(0 if result.ok else 1)


@app.command("export")
@friendly_errors
def export(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="File to write."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out file."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl"),
    since: str | None = typer.Option(None, "--since", help="From this time (RFC 3339)."),
    until: str | None = typer.Option(None, "--until", help="Before this time (RFC 3339)."),
    as_user: str | None = AS_USER,
) -> None:
    """Export ledger events, one JSON object per line."""
    if fmt != "jsonl":
        raise fail(f"unknown format {fmt!r} (the ledger exports as jsonl)")
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    check_target(out, force)
    with app_for(ctx) as crm_app, output_file(out, force=force) as fh:
        count = crm_app.crm.audit_export(_context(crm_app, as_user), fh, since=start, until=end)
    console.print(f"exported {count} events to {out}", highlight=False)


@app.command("log")
@friendly_errors
def log(
    ctx: typer.Context,
    actor: str | None = typer.Option(None, "--actor", help="Only this user's events."),
    action: str | None = typer.Option(None, "--action"),
    record: str | None = typer.Option(
        None, "--record", help="RESOURCE:ID: who touched this record?"
    ),
    outcome: str | None = typer.Option(None, "--outcome", help="allowed | denied | error"),
    since: str | None = typer.Option(None, "--since"),
    until: str | None = typer.Option(None, "--until"),
    limit: int = typer.Option(50, "--limit", min=1),
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON lines on stdout."),
) -> None:
    """Query the ledger: who looked at client X, what did a user export."""
    if outcome is not None and outcome not in OUTCOMES:
        raise fail(f"--outcome must be one of {', '.join(OUTCOMES)}")
    resource = record_id = None
    if record:
        resource, _, raw = record.partition(":")
        record_id = int(raw) if raw.isdigit() else (raw or None)
    with app_for(ctx) as crm_app:
        entries = crm_app.crm.audit_entries(
            _context(crm_app, as_user),
            since=parse_time(since, "--since"),
            until=parse_time(until, "--until"),
            actor=actor,
            action=action,
            resource=resource,
            record_id=record_id,
            outcome=outcome,
            limit=limit,
        )
    if as_json:
        for entry in entries:
            print_json(entry.to_json())
        return
    table = Table("seq", "time (UTC)", "actor", "action", "resource", "count", "outcome", "channel")
    for e in entries:
        table.add_row(
            str(e.seq),
            e.ts.strftime("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.action,
            e.resource,
            str(e.count),
            e.outcome,
            e.channel,
        )
    console.print(table)
    if not entries:
        sys.stderr.write("no matching events\n")
