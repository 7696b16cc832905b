"""The guarded CRM service: the only way the application touches CRM data."""

from crmguard.service.admin_bridge import AdminBridgeMixin
from crmguard.service.context import Channel, RequestContext, new_request_id, operator_context
from crmguard.service.errors import AccessDenied, ExportLimitExceeded, InvalidInput
from crmguard.service.exports import ExportResult, ExportsMixin
from crmguard.service.ledger_summary import LedgerSummaryMixin
from crmguard.service.people import PeopleMixin
from crmguard.service.reads import RELATED, ReadsMixin
from crmguard.service.writes import WritesMixin


class GuardedCRM(
    ReadsMixin, ExportsMixin, WritesMixin, LedgerSummaryMixin, PeopleMixin, AdminBridgeMixin
):
    """Reads, exports, changes, ledger reads and admin operations, each decided, scoped
    and recorded."""


__all__ = [
    "RELATED",
    "AccessDenied",
    "Channel",
    "ExportLimitExceeded",
    "ExportResult",
    "GuardedCRM",
    "InvalidInput",
    "RequestContext",
    "new_request_id",
    "operator_context",
]
