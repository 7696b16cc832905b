"""The guarded CRM service: the only way the application touches CRM data."""

from crmguard.service.context import Channel, RequestContext, new_request_id, operator_context
from crmguard.service.errors import AccessDenied, ExportLimitExceeded, InvalidInput
from crmguard.service.exports import ExportResult, ExportsMixin
from crmguard.service.history import MAX_RECORD_ID, HistoryEntry, HistoryMixin, RecordHistory
from crmguard.service.ledger_reads import LedgerReadsMixin
from crmguard.service.reads import RELATED, ReadsMixin
from crmguard.service.writes import WritesMixin


class GuardedCRM(HistoryMixin, ReadsMixin, ExportsMixin, WritesMixin, LedgerReadsMixin):
    """Reads, exports, changes, their history and ledger reads, each decided, scoped and
    recorded."""


__all__ = [
    "MAX_RECORD_ID",
    "RELATED",
    "AccessDenied",
    "Channel",
    "ExportLimitExceeded",
    "ExportResult",
    "GuardedCRM",
    "HistoryEntry",
    "InvalidInput",
    "RecordHistory",
    "RequestContext",
    "new_request_id",
    "operator_context",
]
