"""``crmguard users``: who works in the CRM."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

import crm_models
from crmguard.cli.common import console, friendly_errors, print_json
from crmguard.cli.session import app_for

app = typer.Typer(help="Users of the CRM.", no_args_is_help=True)


@app.command("list")
@friendly_errors
def list_users(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON array on stdout."),
) -> None:
    """List users with their roles and team."""
    users, teams = crm_models.User.__table__, crm_models.Team.__table__
    with app_for(ctx) as crm_app, crm_app.engine.connect() as conn:
        rows = conn.execute(
            select(
                users.c.username,
                users.c.display_name,
                users.c.roles,
                users.c.active,
                teams.c.name.label("team"),
            )
            .select_from(users.outerjoin(teams, users.c.team_id == teams.c.id))
            .order_by(users.c.username)
        ).all()
    data = [
        {
            "username": r.username,
            "display_name": r.display_name,
            "roles": list(r.roles or []),
            "team": r.team,
            "active": bool(r.active),
        }
        for r in rows
    ]
    if as_json:
        print_json(data)
        return
    table = Table("username", "display name", "roles", "team", "active")
    for d in data:
        cells = (
            d["username"],
            d["display_name"],
            ", ".join(d["roles"]),
            d["team"] or "",
            "yes" if d["active"] else "no",
        )
        table.add_row(*(escape(c) for c in cells))
    console.print(table)
