"""Leak alerts: detectors over the ledger's stream, the alert store, the outbox and its
channels, and the offline replay.

The room reads ledger events and never writes the CRM; it responds to a leak (freeze a
user's exports, suspend them) through the small :class:`alerts.response.Responder`
interface the shell wires in. Public API:

* :class:`DetectionEngine` and :func:`load_rules`: detection, the same live and in replay;
* :func:`alerts.replay.replay`: the offline contract of ``crmguard alerts replay`` (its
  module, not re-exported: the package attribute ``replay`` is that module);
* :class:`LiveLoop`: the daemon's tail of the ledger with a persistent cursor;
* the values that cross the border: :class:`Event`, :class:`Finding`, :class:`Alert`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from alerts import native

native.guard()  # before any compiled module can be imported (see alerts.native)

if TYPE_CHECKING:
    from alerts.engine import DetectionEngine
    from alerts.errors import AlertsError, ReplayError, RulesError
    from alerts.live import LiveLoop
    from alerts.model import Alert, Event, Finding
    from alerts.rules import Rules, load_rules

# Loaded on first use: ``crmguard alerts replay`` needs neither SQLAlchemy nor structlog
# (the live loop's), and importing them cost the command about a second of start-up.
_HOME = {
    "Alert": "alerts.model",
    "AlertsError": "alerts.errors",
    "DetectionEngine": "alerts.engine",
    "Event": "alerts.model",
    "Finding": "alerts.model",
    "LiveLoop": "alerts.live",
    "ReplayError": "alerts.errors",
    "Rules": "alerts.rules",
    "RulesError": "alerts.errors",
    "load_rules": "alerts.rules",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'alerts' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


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
]
