"""Response: what the alerts room may do to a user at once, through a door the shell opens.

The room never imports :mod:`access` (the arrows point one way); it asks whoever composed
it through :class:`Responder`. The shell's implementation places the restriction
(``exports_frozen`` or ``suspended``) and writes the ``restrict`` ledger event, on the
connection it is handed, so the alert, its messages, the restriction and the live loop's
cursor commit together or not at all. Security lifts it like any other restriction
(``crmguard access lift``).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection

from alerts.model import Alert, Response

#: Response -> the restriction kind it places (the names of the access room's kinds).
RESTRICTION_OF: dict[str, str] = {"freeze_exports": "exports_frozen", "suspend": "suspended"}


class Responder(Protocol):
    """Places the restriction a rule asks for; returns False when it is already in force."""

    def respond(self, conn: Connection, user: str, response: Response, alert: Alert) -> bool:
        """Restrict ``user`` inside the caller's transaction, recording why (``alert``)."""
        ...
