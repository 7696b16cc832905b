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
            f"more than the {cap}-row export cap for this role; narrow with "
            "--filter FIELD=VALUE or --search TEXT, or ask an admin",
        )
        self.cap = cap


class InvalidInput(CrmguardError):
    """Values handed to a write are not fields of the resource or not acceptable."""

    http_status = 422


class MaskedFieldQuery(AccessDenied):
    """A filter or sort named a field that is masked for the caller.

    Answering it would turn the mask into an oracle (filter ``phone=...`` until a row
    comes back), so it is refused and recorded, whatever the value.
    """

    def __init__(self, username: str, action: str, resource: str, fields: tuple[str, ...]) -> None:
        names = ", ".join(fields)
        super().__init__(
            username,
            action,
            resource,
            f"{names} {'is' if len(fields) == 1 else 'are'} masked for this user and cannot "
            "be filtered or sorted on; filter on another field",
        )
        self.fields = fields


class ReadBudgetExceeded(AccessDenied):
    """Rows listed or searched in the last 24 hours would pass the caller's read budget."""

    http_status = 429

    def __init__(
        self,
        username: str,
        action: str,
        resource: str,
        *,
        budget: int,
        used: int,
        requested: int,
        until: str | None,
    ) -> None:
        if until is None:
            why = (
                f"this request returns {requested} rows, more than the whole read budget of "
                f"{budget} rows per 24 h; ask for a smaller page or --limit"
            )
        else:
            why = (
                f"read budget of {budget} rows per 24 h reached ({used} used, this request "
                f"returns {requested}); more can be read from {until}, or ask an admin"
            )
        super().__init__(username, action, resource, why)
        self.budget = budget
        self.used = used
        self.requested = requested
        self.until = until


class PageTooLarge(InvalidInput):
    """A page or search limit above what the service hands out in one call."""

    http_status = 400

    def __init__(self, size: int, largest: int) -> None:
        super().__init__(
            f"page size {size} is above the limit of {largest} rows per call; "
            "walk the pages (--page) or narrow with a filter or a search"
        )
        self.size = size
        self.largest = largest
