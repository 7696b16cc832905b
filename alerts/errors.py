"""Errors of the alerts room: one base that explains itself in one line.

The shell prints ``str(error)`` and exits with :attr:`AlertsError.exit_code`, so every
message names what went wrong and what to do next.
"""

from __future__ import annotations


class AlertsError(Exception):
    """Base of the room's errors."""

    exit_code = 2
    #: The HTTP status the API answers with (400 unless a subclass says otherwise).
    http_status = 400


class AlertNotFound(AlertsError):
    """No alert has that id."""

    http_status = 404

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no alert #{alert_id} (see: crmguard alerts list)")
        self.alert_id = alert_id


class AlertStateError(AlertsError):
    """The requested status change does not follow from the alert's current status."""

    http_status = 409


class ChannelConfigError(AlertsError):
    """A channel's settings are malformed; the message names the channel and the key."""

    http_status = 500


class StoreError(AlertsError):
    """The alert store could not be read or written (the database refused)."""

    http_status = 503


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
