"""Leak alerts: detectors over the ledger's stream, the alert store, the outbox and its
channels, and the offline replay.

The room reads ledger events and never writes the CRM; it responds to a leak (freeze a
user's exports, suspend them) through the small :class:`alerts.response.Responder`
interface the shell wires in. Public API:

* :class:`DetectionEngine` and :func:`load_rules`: detection, the same live and in replay;
* :func:`replay`: the offline contract of ``crmguard alerts replay``;
* :class:`LiveLoop`: the daemon's tail of the ledger with a persistent cursor;
* the values that cross the border: :class:`Event`, :class:`Finding`, :class:`Alert`.
"""

from alerts.engine import DetectionEngine
from alerts.errors import AlertsError, ReplayError, RulesError
from alerts.live import LiveLoop
from alerts.model import Alert, Event, Finding
from alerts.replay import replay
from alerts.rules import Rules, load_rules

__all__ = [
    "Alert",
    "AlertsError",
    "DetectionEngine",
    "Event",
    "Finding",
    "LiveLoop",
    "ReplayError",
    "Rules",
    "RulesError",
    "load_rules",
    "replay",
]
