"""Opening the application for a CLI command and building request contexts."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from crmguard.cli.common import settings_of

if TYPE_CHECKING:
    from crmguard.app import App
    from crmguard.service import RequestContext


@contextmanager
def app_for(ctx: typer.Context) -> Iterator[App]:
    """The composed application for the home named on the command line.

    The rooms (SQLAlchemy, Casbin, the ledger) are imported here, when a command opens
    the home, not when the CLI starts.
    """
    from crmguard.app import open_app

    app = open_app(settings_of(ctx))
    try:
        yield app
    finally:
        app.close()


def os_user() -> str:
    """Who runs the command on this machine (recorded when a claimed name is refused)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def user_context(app: App, username: str) -> RequestContext:
    """Act as ``username`` from the command line (channel ``cli``); unknown names are recorded."""
    return app.crm.context_for(username, channel="cli", os_user=os_user())


def operator(_app: App) -> RequestContext:
    """The home's operator (whoever runs the CLI with access to the home's keys)."""
    from crmguard.service import operator_context

    return operator_context(os_user())


def context(app: App, as_user: str | None) -> RequestContext:
    """``--as USER`` when given, else the home's operator."""
    return user_context(app, as_user) if as_user else operator(app)
