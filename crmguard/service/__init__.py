"""The guarded CRM service: the only way the application touches CRM data."""

from crmguard.service.archive import ArchiveReport, LedgerArchiveMixin
from crmguard.service.context import Channel, RequestContext, new_request_id, operator_context
from crmguard.service.errors import AccessDenied, ExportLimitExceeded, InvalidInput
from crmguard.service.exports import ExportResult, ExportsMixin
from crmguard.service.ledger_reads import LedgerReadsMixin
from crmguard.service.reads import RELATED, ReadsMixin
from crmguard.service.writes import WritesMixin


class GuardedCRM(ReadsMixin, ExportsMixin, WritesMixin, LedgerReadsMixin, LedgerArchiveMixin):
    """Reads, exports, changes and ledger reads, each decided, scoped and recorded."""


__all__ = [
    "RELATED",
    "AccessDenied",
    "ArchiveReport",
    "Channel",
    "ExportLimitExceeded",
    "ExportResult",
    "GuardedCRM",
    "InvalidInput",
    "RequestContext",
    "new_request_id",
    "operator_context",
]
