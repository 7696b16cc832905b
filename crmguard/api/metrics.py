"""Prometheus metrics without personal data: decisions and denials by action (counted
from the ledger events as they are appended), ledger events, and request latency.

Labels are actions, resources, outcomes, route templates and status codes: never a
username, an address or a record id. The text format is written by hand (a few lines)
rather than with a client library.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import MutableMapping
from typing import Any

from sqlalchemy import Connection

from audit import AuditEvent, Ledger, LedgerEntry

#: Latency buckets in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Counters and one histogram, safe to update from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: Counter[tuple[str, str, str]] = Counter()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.latency_buckets: Counter[tuple[str, float]] = Counter()
        self.latency_sum: dict[str, float] = {}
        self.latency_count: Counter[str] = Counter()

    def observe_event(self, event: AuditEvent) -> None:
        with self._lock:
            self.events[(event.action, event.resource, event.outcome)] += 1

    def observe_request(self, scope: MutableMapping[str, Any], status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        # Routers included under a prefix keep their own path; put the prefix back.
        path = str(scope.get("path", ""))
        if template != "unmatched" and path.startswith("/api/") and not template.startswith("/api"):
            template = "/api" + template
        method = str(scope.get("method", ""))
        with self._lock:
            self.requests[(method, template, status)] += 1
            self.latency_sum[template] = self.latency_sum.get(template, 0.0) + seconds
            self.latency_count[template] += 1
            for bound in BUCKETS:
                if seconds <= bound:
                    self.latency_buckets[(template, bound)] += 1

    def render(self) -> str:
        """The Prometheus text exposition format."""
        out: list[str] = []
        with self._lock:
            out += [
                "# HELP crmguard_decisions_total Decisions recorded, by action and outcome.",
                "# TYPE crmguard_decisions_total counter",
            ]
            for (action, resource, outcome), n in sorted(self.events.items()):
                out.append(
                    f'crmguard_decisions_total{{action="{_esc(action)}",'
                    f'resource="{_esc(resource)}",outcome="{outcome}"}} {n}'
                )
            denials: Counter[str] = Counter()
            for (action, _resource, outcome), n in self.events.items():
                if outcome == "denied":
                    denials[action] += n
            out += [
                "# HELP crmguard_denials_total Denials recorded, by action.",
                "# TYPE crmguard_denials_total counter",
            ]
            out += [
                f'crmguard_denials_total{{action="{_esc(a)}"}} {n}'
                for a, n in sorted(denials.items())
            ]
            out += [
                "# HELP crmguard_ledger_events_total Ledger events appended by this process.",
                "# TYPE crmguard_ledger_events_total counter",
                f"crmguard_ledger_events_total {sum(self.events.values())}",
                "# HELP crmguard_http_requests_total HTTP requests, by method, route and status.",
                "# TYPE crmguard_http_requests_total counter",
            ]
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(
                    f'crmguard_http_requests_total{{method="{method}",'
                    f'route="{_esc(route)}",status="{status}"}} {n}'
                )
            out += [
                "# HELP crmguard_http_request_seconds Request latency, by route.",
                "# TYPE crmguard_http_request_seconds histogram",
            ]
            for route in sorted(self.latency_count):
                r = _esc(route)
                for bound in BUCKETS:
                    n = self.latency_buckets[(route, bound)]
                    out.append(
                        f'crmguard_http_request_seconds_bucket{{route="{r}",le="{bound}"}} {n}'
                    )
                count = self.latency_count[route]
                out.append(f'crmguard_http_request_seconds_bucket{{route="{r}",le="+Inf"}} {count}')
                total = self.latency_sum[route]
                out.append(f'crmguard_http_request_seconds_sum{{route="{r}"}} {total:.6f}')
                out.append(f'crmguard_http_request_seconds_count{{route="{r}"}} {count}')
        return "\n".join(out) + "\n"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class MeteredLedger(Ledger):
    """The ledger, counting each appended event for :class:`Metrics` (composition at the
    API's root; the ledger room knows nothing of metrics)."""

    metrics: Metrics | None = None

    def append(self, event: AuditEvent) -> LedgerEntry:
        entry = super().append(event)
        if self.metrics is not None:
            self.metrics.observe_event(event)
        return entry

    def append_in(self, conn: Connection, event: AuditEvent) -> LedgerEntry:
        entry = super().append_in(conn, event)
        if self.metrics is not None:
            self.metrics.observe_event(event)
        return entry
