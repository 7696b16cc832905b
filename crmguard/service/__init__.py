"""The guarded CRM service: the only way the application touches CRM data."""

from crmguard.service.admin import AccessCheck, AdminMixin, UserSummary
from crmguard.service.archive import ArchiveReport, LedgerArchiveMixin
from crmguard.service.context import Channel, RequestContext, new_request_id, operator_context
from crmguard.service.errors import AccessDenied, ExportLimitExceeded, InvalidInput
from crmguard.service.exports import ExportResult, ExportsMixin
from crmguard.service.ledger_reads import LedgerPage, LedgerReadsMixin, RecordRef
from crmguard.service.reads import RELATED, ReadsMixin
from crmguard.service.writes import WritesMixin


class GuardedCRM(
    ReadsMixin, ExportsMixin, WritesMixin, LedgerReadsMixin, LedgerArchiveMixin, AdminMixin
):
    """Reads, exports, changes, ledger reads, archiving and admin operations, each
    decided, scoped and recorded."""


__all__ = [
    "RELATED",
    "AccessCheck",
    "AccessDenied",
    "ArchiveReport",
    "Channel",
    "ExportLimitExceeded",
    "ExportResult",
    "GuardedCRM",
    "InvalidInput",
    "LedgerPage",
    "RecordRef",
    "RequestContext",
    "UserSummary",
    "new_request_id",
    "operator_context",
]
