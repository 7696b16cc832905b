"""The guarded CRM service: the only way the application touches CRM data."""

from crmguard.service.context import Channel, RequestContext, new_request_id, operator_context
from crmguard.service.errors import (
    AccessDenied,
    ExportLimitExceeded,
    InvalidInput,
    MaskedFieldQuery,
    PageTooLarge,
    ReadBudgetExceeded,
)
from crmguard.service.exports import ExportResult, ExportsMixin
from crmguard.service.filters import parse_filters
from crmguard.service.ledger_reads import LedgerReadsMixin
from crmguard.service.read_guard import MAX_PAGE_SIZE
from crmguard.service.reads import RELATED, ReadsMixin
from crmguard.service.writes import WritesMixin


class GuardedCRM(ReadsMixin, ExportsMixin, WritesMixin, LedgerReadsMixin):
    """Reads, exports, changes and ledger reads, each decided, scoped and recorded."""


__all__ = [
    "MAX_PAGE_SIZE",
    "RELATED",
    "AccessDenied",
    "Channel",
    "ExportLimitExceeded",
    "ExportResult",
    "GuardedCRM",
    "InvalidInput",
    "MaskedFieldQuery",
    "PageTooLarge",
    "ReadBudgetExceeded",
    "RequestContext",
    "new_request_id",
    "operator_context",
    "parse_filters",
]
