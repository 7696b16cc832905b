"""What every CLI command shares: the settings in the Typer context, the consoles, and
the translation of errors into one line and an exit code (never a traceback)."""

from __future__ import annotations

import json
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

console = Console()
err_console = Console(stderr=True)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings resolved by the top-level callback (``--home`` / ``CRMGUARD_HOME``)."""
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, dict) or "settings" not in obj:
        raise RuntimeError("CLI context has no settings; the root callback did not run")
    settings: Settings = obj["settings"]
    return settings


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` to stderr and return the Exit to raise."""
    # Escaped: messages name settings tables like [alerts.channels.mail], not markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


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
            raise fail(str(exc) or exc.__class__.__name__, code) from None

    return wrapper
