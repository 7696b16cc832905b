"""``crmguard backup ...``: run, list, status, verify, restore, prune.

Each operation is one call into :mod:`crmguard.backup_ops`, which records it in the
ledger. SIGTERM is turned into an exception while a command runs, so the plaintext
scratch copies are removed on the way out as they are for Ctrl-C.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from crmguard.cli.common import console, err_console, fail, print_json, settings_of

if TYPE_CHECKING:
    from backup import Progress as Progress_

# The backup room (boto3, the compressors, the ciphers) is imported inside each command,
# so that ``crmguard --help`` and the other commands do not pay for it.

app = typer.Typer(help="Encrypted, verified backups (local folder or S3).", no_args_is_help=True)

PROGRESS_OPT = typer.Option(False, "--progress", help="Show a progress bar even without a TTY.")
JSON_OPT = typer.Option(False, "--json", help="Machine-readable output.")


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def terminate_cleanly() -> None:
    """SIGTERM unwinds like Ctrl-C: every ``finally`` runs and scratch files go."""
    signal.signal(signal.SIGTERM, _terminated)


def showing(show: bool) -> bool:
    """Whether a progress bar will be drawn (so its total is worth looking up)."""
    return show or sys.stderr.isatty()


@contextmanager
def bar(label: str, total: int | None, show: bool) -> Iterator[Progress_]:
    """A rich progress bar on stderr when it is a terminal or --progress was given."""
    if not showing(show):
        yield lambda _n: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def _size_hint(ctx: typer.Context) -> int | None:
    url = settings_of(ctx).database_url
    if url.startswith("sqlite:///"):
        try:
            from pathlib import Path

            return Path(url.split("///", 1)[1]).stat().st_size
        except OSError:
            return None
    return None


@app.command("run")
def run_cmd(ctx: typer.Context, json: bool = JSON_OPT, progress: bool = PROGRESS_OPT) -> None:
    """Make a backup now; prints its id."""

    from crmguard import backup_ops

    settings = settings_of(ctx)
    terminate_cleanly()
    with bar("backup", _size_hint(ctx), progress) as tick:
        result = backup_ops.run(settings, backup_ops.cli_caller(), tick)
    m = result.manifest
    if json:
        print_json(
            {
                "id": m.backup_id,
                "bytes": m.plaintext_bytes,
                "stored_bytes": m.stored_bytes,
                "seconds": m.seconds,
                "spooled": result.spooled,
            }
        )
    else:
        console.print(m.backup_id, highlight=False)
    if result.spooled:
        err_console.print(
            "warning: the store is unreachable; the backup waits in the local "
            "spool and will be uploaded by the next run",
            highlight=False,
        )


@app.command("list")
def list_cmd(ctx: typer.Context, json: bool = JSON_OPT) -> None:
    """Complete backups (and those waiting in the spool)."""
    from backup import list_backups, spooled
    from crmguard import backups

    settings = settings_of(ctx)
    entries = list_backups(backups.build_store(settings)) + spooled(backups.spool_dir(settings))
    rows = [
        {
            "id": e.backup_id,
            "created_at": e.manifest.created_at.isoformat(),
            "bytes": e.manifest.plaintext_bytes,
            "stored_bytes": e.manifest.stored_bytes,
            "key_id": e.key_id,
            "tables": e.manifest.tables,
            "verified_at": e.verified_at.isoformat() if e.verified_at else None,
            "spooled": e.spooled,
        }
        for e in entries
    ]
    if json:
        print_json(rows)
        return
    table = Table("id", "created", "size", "stored", "key", "verified")
    for r in rows:
        table.add_row(
            str(r["id"]) + (" (spooled)" if r["spooled"] else ""),
            str(r["created_at"])[:19],
            str(r["bytes"]),
            str(r["stored_bytes"]),
            str(r["key_id"]),
            str(r["verified_at"] or "")[:19],
        )
    console.print(table)


@app.command("status")
def status_cmd(ctx: typer.Context, json: bool = JSON_OPT) -> None:
    """Last success, last failure and next run of the backup and drill jobs."""
    from backup import spooled
    from crmguard import backups, schedule

    settings = settings_of(ctx)
    jobs = schedule.status(settings, datetime.now(UTC))
    pending = [e.backup_id for e in spooled(backups.spool_dir(settings))]
    if json:
        print_json({"jobs": [j.to_json() for j in jobs], "spooled": pending})
        return
    for j in jobs:
        if j.never_run:
            console.print(
                f"{j.job}: schedule '{j.schedule}', never run, next run {j.next_run}",
                highlight=False,
            )
            continue
        console.print(
            f"{j.job}: schedule '{j.schedule}', last success {j.last_success or 'never'}, "
            f"last failure {j.last_failure or 'never'}, next run {j.next_run}"
            + (" [bold red]OVERDUE[/]" if j.overdue else "")
            + (f"\n  last error: {j.last_error}" if j.last_error else ""),
            highlight=False,
        )
    if pending:
        console.print(f"waiting in the spool: {', '.join(pending)}", highlight=False)


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    backup_id: str = typer.Argument(None, metavar="ID"),
    all_: bool = typer.Option(False, "--all", help="Verify every backup."),
    json: bool = JSON_OPT,
    progress: bool = PROGRESS_OPT,
) -> None:
    """Download, decrypt, check hashes, restore, integrity check, ledger verify.

    Exit 0: good; 1: a backup is bad (named); 2: the check could not run."""
    from backup import BackupError, list_backups
    from crmguard import backup_ops, backups

    settings = settings_of(ctx)
    terminate_cleanly()
    try:
        if all_:
            ids = [e.backup_id for e in list_backups(backups.build_store(settings))]
        elif backup_id:
            ids = [backup_id]
        else:
            raise fail("give a backup ID or --all")
        reports = []
        for bid in ids:
            total = backups.plaintext_size(settings, bid) if showing(progress) else None
            with bar(f"verify {bid}", total, progress) as tick:
                reports.append(backup_ops.verify(settings, backup_ops.cli_caller(), bid, tick))
    except BackupError as exc:
        raise fail(str(exc), 2) from None
    if json:
        print_json(
            [
                {
                    "id": r.backup_id,
                    "ok": r.ok,
                    "problem": r.problem,
                    "tables": r.tables,
                    "restored": r.restored,
                }
                for r in reports
            ]
        )
    for r in reports:
        if not json:
            console.print(f"{r.backup_id}: " + ("ok" if r.ok else "BAD"), highlight=False)
        if not r.ok:
            err_console.print(f"error: {r.problem}", highlight=False)
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


@app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    backup_id: str = typer.Argument(..., metavar="ID"),
    to: str = typer.Option(..., "--to", help="A SQLite path or a database URL."),
    force: bool = typer.Option(False, "--force", help="Replace a target that holds data."),
    progress: bool = PROGRESS_OPT,
) -> None:
    """Restore into a temporary target, check it, then move it into place."""
    from crmguard import backup_ops, backups

    settings = settings_of(ctx)
    terminate_cleanly()
    total = backups.plaintext_size(settings, backup_id) if showing(progress) else None
    with bar("restore", total, progress) as tick:
        result = backup_ops.restore(settings, backup_ops.cli_caller(), backup_id, to, force, tick)
    console.print(
        f"restored {result.backup_id} into {result.target} "
        f"({sum(result.tables.values())} rows in {len(result.tables)} tables)",
        highlight=False,
    )


@app.command("prune")
def prune_cmd(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would be deleted."),
    json: bool = JSON_OPT,
) -> None:
    """Apply the retention policy (keep-last/hourly/daily/weekly/monthly)."""

    from crmguard import backup_ops

    settings = settings_of(ctx)
    decisions, deleted = backup_ops.prune(settings, backup_ops.cli_caller(), dry_run)
    if json:
        print_json(
            {
                "dry_run": dry_run,
                "deleted": deleted,
                "decisions": [
                    {"id": d.backup_id, "keep": d.keep, "reasons": list(d.reasons)}
                    for d in decisions
                ],
            }
        )
        return
    for d in decisions:
        verb = "keep" if d.keep else ("would delete" if dry_run else "deleted")
        console.print(f"{verb:12} {d.backup_id}  {', '.join(d.reasons)}", highlight=False)
