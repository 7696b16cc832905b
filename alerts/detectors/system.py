"""System alerts: failed or overdue backups and rejected policy edits.

They are ledger events already (``backup.*`` with outcome ``error``, ``backup.overdue``
from the daemon, ``policy.reload`` with outcome ``error``); turning them into alerts puts
them on the channels security staff watch. They belong to the user ``system``.
"""

from __future__ import annotations

from typing import ClassVar, Final

from alerts.detectors.interface import Context, Detector, Kind, Signal
from alerts.model import Event
from alerts.user_state import UserState

SYSTEM_USER: Final = "system"


class SystemDetector(Detector):
    kinds: ClassVar[frozenset[Kind]] = frozenset({"other", "denied"})

    def observe(
        self, event: Event, t: float, state: UserState | None, ctx: Context
    ) -> list[Signal]:
        action, outcome = event.action, event.outcome
        error = str(event.details.get("error", ""))[:200]
        why = f": {error}" if error else ""
        if action == "backup.overdue":
            return [
                Signal(
                    "backup_overdue",
                    SYSTEM_USER,
                    1.0,
                    f"backup is overdue{why}",
                    {"seq": event.seq, "actor": event.actor},
                )
            ]
        if action.startswith("backup.") and outcome == "error":
            return [
                Signal(
                    "backup_failed",
                    SYSTEM_USER,
                    1.0,
                    f"{action} failed (run by {event.actor}){why}",
                    {"seq": event.seq, "actor": event.actor, "action": action},
                )
            ]
        if action == "policy.reload" and outcome == "error":
            return [
                Signal(
                    "policy_rejected",
                    SYSTEM_USER,
                    1.0,
                    f"a policy edit was rejected; the last good policy stays in force{why}",
                    {"seq": event.seq, "actor": event.actor},
                )
            ]
        return []
