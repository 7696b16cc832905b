"""Errors of the application shell.

Every error a person can meet carries a message that says what went wrong and what to
do; the CLI prints ``str(error)`` on one line and exits with :attr:`exit_code`, the HTTP
API answers with :attr:`http_status` and the same message. One hierarchy serves both doors.
"""

from __future__ import annotations


class CrmguardError(Exception):
    """Base of the shell's errors: a one-line message a person can act on."""

    exit_code = 2
    #: The HTTP status the API answers with for this error (the API maps errors by it).
    http_status = 400


class SettingsError(CrmguardError):
    """The settings file or an environment variable is malformed."""

    http_status = 503


class HomeExists(CrmguardError):
    """``init`` was asked to create a home that already holds data."""

    http_status = 409


class HomeMissing(CrmguardError):
    """The home has not been initialised yet."""

    http_status = 503


class DatabaseUnavailable(CrmguardError):
    """The database cannot be reached or refuses to work."""

    http_status = 503


class UnknownUser(CrmguardError):
    """No user has that username."""

    http_status = 404

    def __init__(self, username: str) -> None:
        super().__init__(f"unknown user {username!r} (see: crmguard users list)")
        self.username = username


class OutputFileError(CrmguardError):
    """A file named with ``--out`` cannot or must not be written."""


class NotAuthenticated(CrmguardError):
    """No valid credentials: a missing, wrong, expired or revoked token or session, or an
    account that is deactivated or suspended. The message never says which, so a
    stolen or guessed credential learns nothing."""

    exit_code = 1
    http_status = 401


class SignInThrottled(CrmguardError):
    """Too many failed sign-ins for this user or from this address; try again later."""

    exit_code = 1
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after


class Conflict(CrmguardError):
    """The change clashes with what is stored (a username that is taken, say)."""

    http_status = 409
