"""ledger planner statistics: PostgreSQL plans a user's activity per day as a hash, not a sort

Revision ID: 0006_ledger_planner_stats
Revises: 0005_ledger_index
Create Date: 2026-12-01 01:40:00

PostgreSQL only (14 and later): extended statistics on the ledger (see
``audit.schema.install_planner_statistics``); nothing changes on SQLite or in the tables.
"""

from alembic import op
from sqlalchemy import text

from audit.schema import PLANNER_STATISTICS, install_planner_statistics


revision = '0006_ledger_planner_stats'
down_revision = '0005_ledger_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    install_planner_statistics(bind)
    if bind.dialect.name == "postgresql":
        # Autovacuum analyzes an insert-only table only after a tenth of it is new, so
        # a large ledger would wait long for its new statistics; ANALYZE reads a fixed
        # sample (seconds, whatever the ledger's size).
        bind.execute(text("ANALYZE audit_ledger"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in PLANNER_STATISTICS:
            bind.execute(text(f'DROP STATISTICS IF EXISTS "{name}"'))
