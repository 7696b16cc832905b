"""More ``crmguard users`` commands: set a password, enrol TOTP, reassign everything a
leaver owns, deactivate. Registered onto the ``users`` group by the root command."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from crmguard.cli.common import console, fail, print_json
from crmguard.cli.session import app_for, operator


def register(users: typer.Typer) -> None:
    """Add the commands to the ``users`` group."""

    @users.command("set-password")
    def set_password(
        ctx: typer.Context,
        user: str = typer.Argument(..., help="Username."),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input."
        ),
    ) -> None:
        """Set USER's password (stored as an Argon2id hash)."""
        if not password_stdin:
            raise fail("give the password on standard input with --password-stdin")
        password = sys.stdin.readline().rstrip("\r\n")
        with app_for(ctx) as crm_app:
            from crmguard.service.auth import Authenticator

            auth = Authenticator(crm_app.crm, crm_app.settings.api)
            auth.set_password(operator(crm_app), user, password)
        console.print(f"password set for {escape(user)}")

    @users.command("totp")
    def enrol_totp(
        ctx: typer.Context,
        user: str = typer.Argument(..., help="Username (needs a password first)."),
        as_json: bool = typer.Option(False, "--json", help='{"secret", "uri"} on stdout.'),
    ) -> None:
        """Give USER a new TOTP secret (shown once) for their authenticator app."""
        with app_for(ctx) as crm_app:
            from crmguard.service.auth import Authenticator

            auth = Authenticator(crm_app.crm, crm_app.settings.api)
            secret, uri = auth.enrol_totp(operator(crm_app), user)
        if as_json:
            print_json({"secret": secret, "uri": uri})
        else:
            console.print(f"TOTP secret for {escape(user)} (shown once): {secret}")
            console.print(uri, highlight=False, soft_wrap=True)

    @users.command("reassign")
    def reassign(
        ctx: typer.Context,
        user: str = typer.Argument(..., help="The user whose records move (e.g. a leaver)."),
        to: str = typer.Option(..., "--to", help="The colleague who takes them over."),
        as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
    ) -> None:
        """Hand every record USER owns to another user in one step (one ledger event)."""
        with app_for(ctx) as crm_app:
            done = crm_app.crm.reassign_all(operator(crm_app), user, to)
        counts = {k: len(v) for k, v in done.records.items()}
        if as_json:
            print_json({"from": user, "to": to, "counts": counts, "ledger_seq": done.ledger_seq})
            return
        summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no records"
        console.print(f"{escape(user)} -> {escape(to)}: {summary}", highlight=False)

    @users.command("deactivate")
    def deactivate(ctx: typer.Context, user: str = typer.Argument(..., help="Username.")) -> None:
        """Deactivate USER: their tokens and sessions end at once."""
        with app_for(ctx) as crm_app:
            crm_app.crm.deactivate_user(operator(crm_app), user)
        console.print(f"{escape(user)} deactivated; tokens and sessions ended")
