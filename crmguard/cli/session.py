"""Opening the application for a CLI command and building request contexts."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from crmguard.app import App, open_app
from crmguard.cli.common import settings_of
from crmguard.service import RequestContext, operator_context


@contextmanager
def app_for(ctx: typer.Context) -> Iterator[App]:
    """The composed application for the home named on the command line."""
    app = open_app(settings_of(ctx))
    try:
        yield app
    finally:
        app.close()


def user_context(app: App, username: str) -> RequestContext:
    """Act as ``username`` from the command line (channel ``cli``)."""
    return RequestContext(principal=app.crm.principal(username), channel="cli")


def operator(_app: App) -> RequestContext:
    """The home's operator (whoever runs the CLI with access to the home's keys)."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return operator_context(who)
