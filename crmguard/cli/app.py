"""The ``crmguard`` command: the root callback, the sub-commands' registry, and the one
place where errors become a line on stderr and an exit code.

Importing this module imports Typer and the command modules only: each command imports
the rooms it uses when it runs, so ``--help`` and quick commands start fast.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from types import MethodType
from typing import Any

import typer
from typer.core import TyperGroup

from crmguard import __version__
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
from crmguard.cli.common import describe, exit_code_of, fail


def _plain_value(param: Any, ctx: Any, value: Any) -> Any:
    """A root option's value as given on the command line (a string, a flag or None)."""
    return param.callback(ctx, param, value) if param.callback is not None else value


class _RootGroup(TyperGroup):
    """The root command. Its text options (``--home``, ``--log-level``) and its ``--help``
    are taken as given rather than through Typer's value coercion, which imports Pydantic
    (about a third of a minimal application's start): a sub-group's ``--help`` then starts
    as fast as the root's. The callback converts ``--home`` to a path itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.name in ("home", "log_level"):
                param.process_value = MethodType(_plain_value, param)  # type: ignore[method-assign]

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            option.process_value = MethodType(_plain_value, option)  # type: ignore[method-assign]
        return option


app = typer.Typer(
    name="crmguard",
    cls=_RootGroup,
    help="Security, audit and data-leak monitoring for your CRM.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


#: Options of the root command that may also be written after the sub-command
#: (``crmguard users list --home DIR``); :func:`main` moves them to the front.
ROOT_OPTIONS = ("--home", "--log-level")
#: Root flags (no value) that may also be written after the sub-command.
ROOT_FLAGS = ("--verbose",)


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
    _verbose: bool = typer.Option(
        False,
        "--verbose",
        help="On an error, print the traceback too; before or after the sub-command.",
    ),
    _version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        expose_value=False,
        help="Print the version and exit.",
    ),
) -> None:
    """Remember the home for every command; its settings are read when a command needs them."""
    ctx.obj = {"home": Path(home) if home is not None else None, "log_level": log_level}


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
        if i > 0 and arg in ROOT_FLAGS:
            moved.append(arg)
        elif i > 0 and name in ROOT_OPTIONS:
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
    front = _front_end(rest)
    return rest[:front] + moved + rest[front:]


def _front_end(args: Sequence[str]) -> int:
    """How many leading ``args`` are root options (with their values) or root flags."""
    front = 0
    while front < len(args):
        arg = args[front]
        if arg in ROOT_FLAGS:
            front += 1
        elif arg.split("=", 1)[0] in ROOT_OPTIONS:
            front += 1 if "=" in arg else 2
        else:
            break
    return min(front, len(args))


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is how Typer ends a command the user interrupted (Ctrl-C)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point, and the one place errors are caught.

    A project error prints its one-line message and exits with its ``exit_code``; a
    database or system error is explained in one line (exit 2); anything else is a bug,
    named by class (exit 2). ``--verbose`` adds the traceback. Ctrl-C exits 130.
    """
    args = hoist_root_options(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in args[: _front_end(args)]
    try:
        app(args=args, prog_name="crmguard")
    except SystemExit as exc:
        if exc.code == 130 and _interrupted(exc):
            fail("interrupted", 130)
        raise
    except KeyboardInterrupt:
        fail("interrupted", 130)
        raise SystemExit(130) from None
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        code = exit_code_of(exc)
        fail(describe(exc), code)
        raise SystemExit(code) from None


if __name__ == "__main__":
    main()
