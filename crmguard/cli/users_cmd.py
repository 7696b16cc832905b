"""``crmguard users``: who works in the CRM (one call to the guarded service)."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from crmguard.cli.common import console, print_json
from crmguard.cli.session import app_for, context

app = typer.Typer(help="Users of the CRM.", no_args_is_help=True)


@app.command("list")
def list_users(
    ctx: typer.Context,
    as_user: str | None = typer.Option(
        None, "--as", help="List as this user (needs list on user); default: the operator."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON array on stdout."),
) -> None:
    """List users with their roles and team."""
    with app_for(ctx) as crm_app:
        users = crm_app.crm.list_users(context(crm_app, as_user))
    if as_json:
        print_json([u.to_json() for u in users])
        return
    table = Table("username", "display name", "roles", "team", "active")
    for u in users:
        cells = (
            u.username,
            u.display_name,
            ", ".join(u.roles),
            u.team or "",
            "yes" if u.active else "no",
        )
        table.add_row(*(escape(c) for c in cells))
    console.print(table)
