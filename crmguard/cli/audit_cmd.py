"""``crmguard audit``: verify, export and query the ledger (each read is itself recorded)."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from crmguard.cli.common import console, err_console, fail, print_json, settings_of
from crmguard.cli.session import app_for, context

if TYPE_CHECKING:
    from rich.progress import Progress

    from audit import VerifyResult
from crmguard.outfiles import check_target, output_file

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
    pubkey: Path | None = typer.Option(
        None, "--pubkey", help="Auditor: the checkpoint public key file; no secret is used."
    ),
    anchors: list[str] = typer.Option(
        [], "--anchors", help="Auditor: anchor file, folder of them, or s3://BUCKET/PREFIX."
    ),
    file: Path | None = typer.Option(
        None, "--file", help="Auditor: check this exported ledger.jsonl instead of the database."
    ),
    s3_endpoint_url: str | None = typer.Option(
        None, "--s3-endpoint-url", help="S3-compatible endpoint for s3:// anchors."
    ),
    index: bool = typer.Option(
        False,
        "--index",
        help="Also compare the record index ('who viewed') with the entries: the deep "
        "check, several times slower on large ledgers.",
    ),
) -> None:
    """Walk the chain against the anchors. Exit 0 intact, 1 tampered, 2 could not run.

    With --pubkey (an outside auditor) only the public key and the anchors are used."""
    progress = _progress(as_json)
    with progress:
        task = progress.add_task("verifying", total=None)

        def advance(done: int) -> None:
            progress.update(task, completed=done)

        if pubkey is not None or file is not None:
            from crmguard.auditor import auditor_verify

            if pubkey is None:
                raise fail("--file needs --pubkey (and --anchors): the auditor's check")
            result = auditor_verify(
                settings_of(ctx), pubkey, anchors, file, s3_endpoint_url, advance
            )
        else:
            from audit import KeyFileError
            from crmguard.ledger_anchors import home_vouches

            with app_for(ctx) as crm_app:
                vouches, notes = home_vouches(crm_app.settings)
                try:
                    result = crm_app.crm.audit_verify(
                        context(crm_app, as_user), vouches=vouches, progress=advance, index=index
                    )
                except KeyFileError as exc:
                    raise fail(f"{crm_app.settings.mac_key_file}: {exc}") from None
            result = replace(result, notes=(*notes, *result.notes))
    _show(result, as_json)
    raise typer.Exit(0 if result.ok else 1)


def _progress(quiet: bool) -> Progress:
    from rich.progress import Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} entries"),
        console=err_console,
        transient=True,
        disable=quiet or not err_console.is_terminal,
    )


#: What a verdict names when the chain is intact but data derived from it was edited.
_DERIVED = {"miscounted": "day totals", "misindexed": "record index"}


def _show(result: VerifyResult, as_json: bool) -> None:
    if as_json:
        print_json(result.report())
        return
    if result.ok:
        reach = (
            f"; anchors outside the database vouch up to entry {result.anchored_seq}"
            if result.anchored_seq
            else "; no anchor outside the database vouches for it yet"
        )
        console.print(
            f"[green]ledger intact[/]: {result.checked} events verified{reach}", highlight=False
        )
        if result.anchored_seq and result.head_seq and result.head_seq > result.anchored_seq:
            console.print(
                f"entries {result.anchored_seq + 1}..{result.head_seq} are not anchored yet "
                "(proven only by the chain until the next anchor)",
                highlight=False,
            )
    else:
        what = _DERIVED.get(result.kind or "", "ledger")
        console.print(
            f"[red]{what} TAMPERED[/] ({result.kind}) at seq {result.first_bad_seq}: "
            f"{result.problem} ({result.checked} checked)",
            highlight=False,
        )
    for note in result.notes:
        console.print(f"[dim]{note}[/]", highlight=False)


@app.command("pubkey")
def pubkey_cmd(
    ctx: typer.Context,
    out: Path | None = typer.Option(None, "--out", help="Also write it to this file."),
) -> None:
    """The ledger's checkpoint public key: what an auditor needs (it lets nobody sign)."""
    from crmguard.ledger_anchors import public_key_text

    text = public_key_text(settings_of(ctx))
    if out is not None:
        out.write_text(text + "\n", encoding="ascii")
    console.print(text, highlight=False)


@app.command("export")
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
        count = crm_app.crm.audit_export(context(crm_app, as_user), fh, since=start, until=end)
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
    with_archive: bool = typer.Option(
        False, "--archive", help="Search the archived segments too (slower)."
    ),
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON lines on stdout."),
) -> None:
    """Query the ledger: who looked at client X, what did a user export."""
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    with app_for(ctx) as crm_app:
        store = None
        if with_archive:
            from crmguard.backups import build_store

            store = build_store(crm_app.settings)
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
            archive=store,
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


@app.command("activity")
def activity(
    ctx: typer.Context,
    actor: str = typer.Argument(..., help="The user whose activity to count."),
    since: str | None = typer.Option(None, "--since"),
    until: str | None = typer.Option(None, "--until"),
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON lines on stdout."),
) -> None:
    """A user's events and records per UTC day, action, resource and outcome: what did
    the departing manager take, day by day?"""
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    with app_for(ctx) as crm_app:
        days = crm_app.crm.audit_activity(context(crm_app, as_user), actor, since=start, until=end)
    if as_json:
        for day in days:
            print_json(day.to_json())
    else:
        table = Table("day (UTC)", "action", "resource", "outcome")
        table.add_column("events", justify="right")
        table.add_column("records", justify="right")
        for d in days:
            table.add_row(d.day, d.action, d.resource, d.outcome, f"{d.events:,}", f"{d.records:,}")
        console.print(table)
    if not days:
        sys.stderr.write(f"no events of {actor} in your ledger scope\n")


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
