"""What every CLI command shares: the settings in the Typer context, the consoles, and
the translation of errors into one line and an exit code (never a traceback)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from crmguard.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings resolved by the top-level callback (``--home`` / ``CRMGUARD_HOME``)."""
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, dict) or "settings" not in obj:
        raise RuntimeError("CLI context has no settings; the root callback did not run")
    settings: Settings = obj["settings"]
    return settings


#: SQLAlchemy appends a link to its documentation to every message; not for our users.
_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")
#: What a database says, and what a person can do about it.
_DB_HINTS: tuple[tuple[str, str], ...] = (
    ("database is locked", "another crmguard process is writing; try again in a moment"),
    ("readonly database", "the home's database file is read-only: check its owner and mode"),
    ("read-only", "the database is read-only: check its owner and mode"),
    ("unable to open database", "check that the home exists and its database is readable"),
    ("disk image is malformed", "the database file is damaged: restore it from a backup"),
    ("no such table", "the schema is incomplete: run `crmguard migrate`"),
    ("does not exist", "the schema is incomplete: run `crmguard migrate`"),
    ("out of range", "a number is too large for the database"),
    ("connection", "check that the database server is running and reachable"),
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` to stderr and return the Exit to raise.

    The message is printed as text, never as Rich markup: ``[role_definition]`` or
    ``[masked]`` in a message must reach the reader as written.
    """
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def describe(exc: BaseException) -> str:
    """One line a person can act on, for any error (project errors say it themselves)."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, OverflowError):
        return f"a number is too large ({exc}): record ids go from 1 to {2**31 - 1}"
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        reason = reason or exc.__class__.__name__
        hint = next((h for key, h in _DB_HINTS if key in reason.lower()), None)
        hint = hint or "check the database with `crmguard audit verify` and try again"
        return f"the database refused the operation ({reason}): {hint}"
    if isinstance(exc, SQLAlchemyError):
        lines = _BACKGROUND.sub("", str(exc)).strip().splitlines()
        return f"database error ({lines[0] if lines else exc.__class__.__name__})"
    text = _BACKGROUND.sub("", str(exc)).strip()
    return text or f"unexpected {exc.__class__.__name__} with no detail: please report it"


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, nothing else on that stream."""
    sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn any project error into one line on stderr and exit 2.

    Project errors (``CRMError``, ``AccessError``, ``AuditError``, ``BackupError``,
    ``CrmguardError``) carry messages written for people; anything else is reported
    by class and message so a bug never leaks a traceback onto a user's screen.
    """

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except Exception as exc:
            code = int(getattr(exc, "exit_code", 2))
            raise fail(describe(exc), code) from None

    return wrapper
