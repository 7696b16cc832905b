"""``crmguard tokens``: API tokens for scripts and integrations (issued by the operator)."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from crmguard.cli.common import console, print_json
from crmguard.cli.session import app_for, operator

app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    user: str = typer.Argument(..., help="Username the token acts as."),
    name: str = typer.Option(..., "--name", help="What the token is for, e.g. 'invoicing sync'."),
    expires_in_days: int | None = typer.Option(
        None, "--expires-in-days", min=1, max=3650, help="Expire after N days (default: never)."
    ),
    as_json: bool = typer.Option(False, "--json", help='{"id", "token", "expires_at"} on stdout.'),
) -> None:
    """Issue a token; it is printed once and only its hash is stored."""
    with app_for(ctx) as crm_app:
        from crmguard.service.auth import Authenticator

        auth = Authenticator(crm_app.crm, crm_app.settings.api)
        created = auth.create_token(operator(crm_app), user, name, expires_in_days)
    if as_json:
        print_json(created.to_json())
        return
    console.print(f"token #{created.id} for {escape(user)} (shown once, keep it secret):")
    console.print(created.token, highlight=False, soft_wrap=True)
    if created.expires_at:
        console.print(f"expires {created.expires_at.isoformat()}")


@app.command("list")
def list_tokens(
    ctx: typer.Context,
    user: str | None = typer.Argument(None, help="Only this user's tokens."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array on stdout."),
) -> None:
    """List tokens (never their secrets)."""
    with app_for(ctx) as crm_app:
        from crmguard.service.auth import Authenticator

        auth = Authenticator(crm_app.crm, crm_app.settings.api)
        tokens = auth.list_tokens(operator(crm_app), user)
    if as_json:
        print_json([t.to_json() for t in tokens])
        return
    table = Table("id", "user", "name", "created", "expires", "state")
    for t in tokens:
        state = "revoked" if t.revoked_at else "active"
        expires = t.expires_at.isoformat() if t.expires_at else "never"
        cells = (str(t.id), t.username, t.name, t.created_at.isoformat(), expires, state)
        table.add_row(*(escape(c) for c in cells))
    console.print(table)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: int = typer.Argument(..., help="Token number (see: crmguard tokens list)."),
) -> None:
    """Revoke a token; it stops working on its next request."""
    with app_for(ctx) as crm_app:
        from crmguard.service.auth import Authenticator

        Authenticator(crm_app.crm, crm_app.settings.api).revoke_token(operator(crm_app), token_id)
    console.print(f"revoked token #{token_id}")
