"""The ``crmguard`` command: the root callback and the sub-commands' registry."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

import typer

from crmguard import __version__, logs
from crmguard.cli import (
    access_cmd,
    audit_cmd,
    contacts_cmd,
    home_cmd,
    serve_cmd,
    tokens_cmd,
    users_cmd,
    users_extra_cmd,
)
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


#: Options of the root command that may also be written after the sub-command
#: (``crmguard users list --home DIR``); :func:`main` moves them to the front.
ROOT_OPTIONS = ("--home", "--log-level")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"crmguard {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Path | None = typer.Option(
        None,
        "--home",
        help="Home directory (default: $CRMGUARD_HOME or ~/.crmguard); "
        "before or after the sub-command.",
    ),
    log_level: str | None = typer.Option(None, "--log-level", help="debug, info, warning, error"),
    _version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        expose_value=False,
        help="Print the version and exit.",
    ),
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
app.add_typer(tokens_cmd.app, name="tokens")
users_extra_cmd.register(users_cmd.app)
serve_cmd.register(app)

# Rooms that bring their own sub-commands; registered when present.
for _module, _name in (
    ("crmguard.cli.backup_cmd", "backup"),
    ("crmguard.cli.keys_cmd", "keys"),
    ("crmguard.cli.alerts_cmd", "alerts"),
    ("crmguard.cli.db_cmd", "db"),
):
    try:
        app.add_typer(import_module(_module).app, name=_name)
    except ModuleNotFoundError as _exc:
        if _exc.name != _module:
            raise


def hoist_root_options(args: Sequence[str]) -> list[str]:
    """``args`` with root options written after the sub-command moved to the front.

    ``crmguard users list --home DIR`` then means ``crmguard --home DIR users list``.
    Nothing after a ``--`` is touched, and a later ``--home`` wins over an earlier one,
    as for any repeated option.
    """
    moved: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        name = arg.split("=", 1)[0]
        if i > 0 and name in ROOT_OPTIONS:
            if "=" in arg:
                moved.append(arg)
            elif i + 1 < len(args):
                moved += [arg, args[i + 1]]
                i += 1
            else:
                rest.append(arg)  # no value: let the parser say so
        else:
            rest.append(arg)
        i += 1
    if not moved:
        return list(args)
    # Root options already in front stay in front; the moved ones follow them (and win).
    front = 0
    while front < len(rest) and rest[front].split("=", 1)[0] in ROOT_OPTIONS:
        front += 1 if "=" in rest[front] else 2
    return rest[:front] + moved + rest[front:]


def main() -> None:
    """Console-script entry point."""
    app(args=hoist_root_options(sys.argv[1:]), prog_name="crmguard")


if __name__ == "__main__":
    main()
