"""``crmguard db``: database administration for operators (PostgreSQL hardening)."""

from __future__ import annotations

import typer

from crmguard.cli.common import console, settings_of

app = typer.Typer(help="Database administration.", no_args_is_help=True)


@app.command("harden")
def harden_cmd(
    ctx: typer.Context,
    app_role: str = typer.Option("crmguard_app", "--app-role", help="Role the application uses."),
    owner_role: str | None = typer.Option(
        None, "--owner-role", help="Role that owns the tables and runs migrations (default: you)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the SQL, change nothing."),
) -> None:
    """Roles and grants that leave the application unable to rewrite the ledger."""
    from crmguard.db import check_connection, make_engine
    from crmguard.db_harden import harden

    engine = make_engine(settings_of(ctx).database_url)
    try:
        check_connection(engine)
        statements = harden(engine, app_role, owner_role, apply=not dry_run)
    finally:
        engine.dispose()
    for statement in statements:
        console.print(f"{statement};", highlight=False, soft_wrap=True)
    if not dry_run:
        console.print(
            f"-- applied. Connect the application as {app_role}; run migrations as the owner.",
            highlight=False,
        )
