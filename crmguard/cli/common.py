"""What every CLI command shares: the settings in the Typer context, the consoles, and
the translation of errors into one line and an exit code (never a traceback)."""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from crmguard.settings import Settings

console = Console(emoji=False)
# An error or warning is one line however long (a file path, a reason): wrapped at the
# terminal's width it would be several to a script that reads it, or to grep.
err_console = Console(stderr=True, emoji=False, soft_wrap=True)

#: The largest record id a command accepts (the service's bound, an SQL INTEGER); kept
#: here so that declaring an argument does not import the service.
MAX_RECORD_ID = 2**31 - 1

#: The base of every project error, by module and name. An error is one of ours when its
#: class derives from one of these; the modules are looked up in ``sys.modules`` only, so
#: describing an error never imports a room (an instance of a class means it is loaded).
PROJECT_ERRORS: tuple[tuple[str, str], ...] = (
    ("crmguard.errors", "CrmguardError"),
    ("access.errors", "AccessError"),
    ("audit.errors", "AuditError"),
    ("backup.errors", "BackupError"),
    ("crm_models.errors", "CRMError"),
    ("alerts.errors", "AlertsError"),
)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings of the home named by ``--home`` / ``CRMGUARD_HOME``.

    Loaded on first use rather than in the root callback, so that ``--help`` and
    ``--version`` read no file and import no room; logging is configured at the same time.
    """
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, dict) or not ("settings" in obj or "home" in obj):
        raise RuntimeError("CLI context has no settings; the root callback did not run")
    if "settings" not in obj:
        from crmguard import logs
        from crmguard.settings import Settings

        loaded = Settings.load(obj["home"])
        logs.configure(obj.get("log_level") or loaded.log_level)
        obj["settings"] = loaded
    settings: Settings = obj["settings"]
    return settings


def is_project_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of the project's errors (its message is written for people)."""
    for module_name, class_name in PROJECT_ERRORS:
        module = sys.modules.get(module_name)
        base = getattr(module, class_name, None) if module is not None else None
        if isinstance(base, type) and isinstance(exc, base):
            return True
    return False


def exit_code_of(exc: BaseException) -> int:
    """The exit code an error asks for (2, "could not do its job", unless it says)."""
    code = getattr(exc, "exit_code", 2) if is_project_error(exc) else 2
    return code if isinstance(code, int) else 2


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
    """One line a person can act on, for any error (project errors say it themselves).

    Anything that is not a project error, a database refusal or an operating-system error
    is a bug: it is named by class and message, never shown as a bare ``'contact_id'``.
    """
    if is_project_error(exc):
        text = _BACKGROUND.sub("", str(exc)).strip()
        return text or f"{exc.__class__.__name__} (no detail)"
    if isinstance(exc, OverflowError):
        return f"a number is too large ({exc}): record ids go from 1 to {2**31 - 1}"
    if "sqlalchemy" in sys.modules:
        from_db = _describe_database_error(exc)
        if from_db is not None:
            return from_db
    text = _BACKGROUND.sub("", str(exc)).strip()
    if isinstance(exc, OSError) and text:
        return text
    first = text.splitlines()[0] if text else ""
    what = f"{exc.__class__.__name__}: {first}" if first else exc.__class__.__name__
    return f"unexpected error ({what}); run again with --verbose"


def _describe_database_error(exc: BaseException) -> str | None:
    """The line for a database refusal, or None when ``exc`` is not one."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        reason = reason or exc.__class__.__name__
        hint = next((h for key, h in _DB_HINTS if key in reason.lower()), None)
        hint = hint or "check the database with `crmguard audit verify` and try again"
        return f"the database refused the operation ({reason}): {hint}"
    if isinstance(exc, SQLAlchemyError):
        lines = _BACKGROUND.sub("", str(exc)).strip().splitlines()
        return f"database error ({lines[0] if lines else exc.__class__.__name__})"
    return None


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, nothing else on that stream."""
    sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()
