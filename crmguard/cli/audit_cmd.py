"""``crmguard audit``: verify, export and query the ledger (each read is itself recorded)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from crmguard.cli.common import console, fail, print_json
from crmguard.cli.session import app_for, context

app = typer.Typer(help="The tamper-evident ledger.", no_args_is_help=True)

AS_USER = typer.Option(
    None,
    "--as",
    help="Act as this user (reads within their ledger scope); default: the home's operator.",
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


@app.command("verify")
def verify(
    ctx: typer.Context,
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Walk the chain. Exit 0 intact, 1 tampered, 2 could not run."""
    with app_for(ctx) as crm_app:
        result = crm_app.crm.audit_verify(context(crm_app, as_user))
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
def export(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="File to write."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl"),
    since: str | None = typer.Option(None, "--since", help="From this time (RFC 3339)."),
    until: str | None = typer.Option(None, "--until", help="Before this time (RFC 3339)."),
    as_user: str | None = AS_USER,
) -> None:
    """Export ledger events, one JSON object per line."""
    if fmt != "jsonl":
        raise fail(f"unknown format {fmt!r} (the ledger exports as jsonl)")
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    tmp = out.with_name(f".{out.name}.partial")
    with app_for(ctx) as crm_app:
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                count = crm_app.crm.audit_export(
                    context(crm_app, as_user), fh, since=start, until=end
                )
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    console.print(f"exported {count} events to {out}", highlight=False)


@app.command("log")
def log(
    ctx: typer.Context,
    actor: str | None = typer.Option(None, "--actor", help="Only this user's events."),
    action: str | None = typer.Option(None, "--action", help="e.g. view, export, audit.read."),
    resource: str | None = typer.Option(None, "--resource", help="e.g. contact, user, audit."),
    record: str | None = typer.Option(
        None, "--record", help="RESOURCE:ID (e.g. contact:42): who saw this record?"
    ),
    outcome: str | None = typer.Option(None, "--outcome", help="allowed | denied | error"),
    since: str | None = typer.Option(None, "--since"),
    until: str | None = typer.Option(None, "--until"),
    limit: int = typer.Option(50, "--limit", min=1),
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON lines on stdout."),
) -> None:
    """Query the ledger: who looked at client X, what did a user export."""
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    with app_for(ctx) as crm_app:
        page = crm_app.crm.audit_entries(
            context(crm_app, as_user),
            since=start,
            until=end,
            actor=actor,
            action=action,
            resource=resource,
            record=record,
            outcome=outcome,
            limit=limit,
        )
    if as_json:
        for entry in page.entries:
            print_json(entry.to_json())
    else:
        table = Table(
            "seq", "time (UTC)", "actor", "action", "resource", "count", "outcome", "channel"
        )
        for e in page.entries:
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
    if not page.entries:
        sys.stderr.write(f"no matching events in your ledger scope ({page.scope})\n")
    elif page.truncated:
        sys.stderr.write(
            f"showing the newest {page.limit} matching events; more match "
            "(raise --limit or narrow with --since/--until)\n"
        )


@app.command("archive")
def archive(
    ctx: typer.Context,
    before: str = typer.Option(..., "--before", help="Archive entries older than this time."),
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Move old entries to the archive store: sealed, signed, read back, then removed."""
    from crmguard.backups import build_store

    cutoff = parse_time(before, "--before")
    assert cutoff is not None
    with app_for(ctx) as crm_app:
        report = crm_app.crm.archive_ledger(
            context(crm_app, as_user), build_store(crm_app.settings), before=cutoff
        )
    if as_json:
        print_json(report.to_json())
    elif not report.segments:
        console.print(f"nothing to archive before {before}", highlight=False)
    else:
        first, last = report.segments[0], report.segments[-1]
        console.print(
            f"archived entries {first.seq_from}-{last.seq_to} ({report.entries} entries, "
            f"{len(report.segments)} segment(s)) to {report.store}",
            highlight=False,
        )


@app.command("archives")
def archives(
    ctx: typer.Context,
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """List the archived segments of the ledger."""
    with app_for(ctx) as crm_app:
        found = crm_app.crm.ledger_archives(context(crm_app, as_user))
    if as_json:
        print_json([m.to_json() for m in found])
        return
    table = Table("entries", "from (UTC)", "to (UTC)", "object", "sha256")
    for m in found:
        table.add_row(
            f"{m.seq_from}-{m.seq_to}", m.first_ts[:19], m.last_ts[:19], m.object_key, m.sha256[:16]
        )
    console.print(table)
    if not found:
        sys.stderr.write("the ledger has no archived segments\n")
