"""A reproducible demo CRM: international people, companies, deals, activities, tasks.

The demo, the usage simulation and the benchmarks start from :func:`seed_dataset`;
benchmarks that need more contacts than a demo reuse :func:`contact_rows`.
"""

from crmguard.seed.clients import company_rows, contact_rows
from crmguard.seed.dataset import DatabaseNotEmpty, DatasetSummary, seed_dataset
from crmguard.seed.identity import ascii_fold
from crmguard.seed.staff import MIN_USERS, ROLES, SALES_TEAMS, SUPPORT_TEAM

__all__ = [
    "MIN_USERS",
    "ROLES",
    "SALES_TEAMS",
    "SUPPORT_TEAM",
    "DatabaseNotEmpty",
    "DatasetSummary",
    "ascii_fold",
    "company_rows",
    "contact_rows",
    "seed_dataset",
]
