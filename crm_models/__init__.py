"""The CRM core: typed SQLAlchemy models and plain queries. It knows nothing of security."""

from crm_models.base import Base, utcnow
from crm_models.errors import CRMError, RecordNotFound, UnknownField
from crm_models.people import Team, User
from crm_models.queries import (
    Page,
    Row,
    count_records,
    get_record,
    iter_records,
    list_records,
    search_records,
    select_records,
)
from crm_models.records import (
    ACTIVITY_KINDS,
    DEAL_STAGES,
    TASK_STATUSES,
    Activity,
    Company,
    Contact,
    Deal,
    Task,
)
from crm_models.resources import (
    CLIENT_RESOURCES,
    RESOURCES,
    ResourceSpec,
    UnknownResource,
    resource,
)

__all__ = [
    "ACTIVITY_KINDS",
    "CLIENT_RESOURCES",
    "DEAL_STAGES",
    "RESOURCES",
    "TASK_STATUSES",
    "Activity",
    "Base",
    "CRMError",
    "Company",
    "Contact",
    "Deal",
    "Page",
    "RecordNotFound",
    "ResourceSpec",
    "Row",
    "Task",
    "Team",
    "UnknownField",
    "UnknownResource",
    "User",
    "count_records",
    "get_record",
    "iter_records",
    "list_records",
    "resource",
    "search_records",
    "select_records",
    "utcnow",
]
