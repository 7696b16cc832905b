"""The ``crmguard`` command: the root callback and the sub-commands' registry."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import typer

from crmguard import logs
from crmguard.cli import access_cmd, audit_cmd, contacts_cmd, home_cmd, users_cmd
from crmguard.cli.common import fail
from crmguard.errors import CrmguardError
from crmguard.settings import Settings

app = typer.Typer(
    name="crmguard",
    help="Security, audit and data-leak monitoring for your CRM.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Path | None = typer.Option(
        None, "--home", help="Home directory (default: $CRMGUARD_HOME or ~/.crmguard)."
    ),
    log_level: str | None = typer.Option(None, "--log-level", help="debug, info, warning, error"),
) -> None:
    """Resolve the home and settings once for every command."""
    try:
        settings = Settings.load(home)
    except CrmguardError as exc:
        raise fail(str(exc)) from None
    logs.configure(log_level or settings.log_level)
    ctx.obj = {"settings": settings}


home_cmd.register(app)
app.add_typer(users_cmd.app, name="users")
app.add_typer(access_cmd.app, name="access")
app.add_typer(contacts_cmd.app, name="contacts")
app.add_typer(audit_cmd.app, name="audit")

# Rooms that bring their own sub-commands; registered when present.
for _module, _name in (
    ("crmguard.cli.backup_cmd", "backup"),
    ("crmguard.cli.keys_cmd", "keys"),
    ("crmguard.cli.db_cmd", "db"),
):
    try:
        app.add_typer(import_module(_module).app, name=_name)
    except ModuleNotFoundError as _exc:
        if _exc.name != _module:
            raise


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
