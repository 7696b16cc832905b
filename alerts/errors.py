"""Errors of the alerts room.

Each error's ``str()`` is one line a person can act on and carries an ``exit_code`` so
the CLI exits with it unchanged. Messages never carry record contents.
"""

from __future__ import annotations


class AlertsError(Exception):
    """Base of every error the alerts room raises."""

    exit_code = 2


class RulesError(AlertsError):
    """The alert rules file is malformed; the message names the file and the line."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        where = f"{path} line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.detail = message


class ReplayError(AlertsError):
    """A replay cannot run (unreadable file) or, with ``--strict``, met a malformed line."""
