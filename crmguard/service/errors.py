"""Errors of the guarded service: what a caller sees when access is refused."""

from __future__ import annotations

from crmguard.errors import CrmguardError


class AccessDenied(CrmguardError):
    """The policy refused the request; the refusal is in the ledger."""

    exit_code = 1
    http_status = 403

    def __init__(self, username: str, action: str, resource: str, reason: str) -> None:
        super().__init__(f"denied: {username} may not {action} {resource} ({reason})")
        self.username = username
        self.action = action
        self.resource = resource
        self.reason = reason


class ExportLimitExceeded(AccessDenied):
    """The export would return more rows than the role's cap allows."""

    def __init__(self, username: str, resource: str, cap: int) -> None:
        super().__init__(
            username,
            "export",
            resource,
            f"more than the {cap}-row export cap for this role; narrow the filter or ask an admin",
        )
        self.cap = cap


class InvalidInput(CrmguardError):
    """Values handed to a write are not fields of the resource or not acceptable."""

    http_status = 422
