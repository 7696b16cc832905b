"""The guarded CRM service: the only way the application touches CRM data."""

from crmguard.service.admin import AccessCheck, AdminMixin, UserSummary
from crmguard.service.admin_bridge import PolicyStatusMixin
from crmguard.service.archive import ArchiveReport, LedgerArchiveMixin
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
from crmguard.service.history import MAX_RECORD_ID, HistoryEntry, HistoryMixin, RecordHistory
from crmguard.service.ledger_reads import LedgerPage, LedgerReadsMixin, RecordRef
from crmguard.service.ledger_summary import LedgerSummaryMixin
from crmguard.service.people import PeopleMixin
from crmguard.service.read_guard import MAX_PAGE_SIZE
from crmguard.service.reads import RELATED, ReadsMixin
from crmguard.service.writes import WritesMixin


class GuardedCRM(
    HistoryMixin,
    ReadsMixin,
    ExportsMixin,
    WritesMixin,
    LedgerSummaryMixin,
    LedgerReadsMixin,
    LedgerArchiveMixin,
    PeopleMixin,
    AdminMixin,
    PolicyStatusMixin,
):
    """Reads, exports, changes and their history, ledger reads, archiving, people and
    admin operations, each decided, scoped and recorded."""


__all__ = [
    "MAX_PAGE_SIZE",
    "MAX_RECORD_ID",
    "RELATED",
    "AccessCheck",
    "AccessDenied",
    "ArchiveReport",
    "Channel",
    "ExportLimitExceeded",
    "ExportResult",
    "GuardedCRM",
    "HistoryEntry",
    "InvalidInput",
    "LedgerPage",
    "MaskedFieldQuery",
    "PageTooLarge",
    "ReadBudgetExceeded",
    "RecordHistory",
    "RecordRef",
    "RequestContext",
    "UserSummary",
    "new_request_id",
    "operator_context",
    "parse_filters",
]
