"""ledger day totals: a user's activity per day summed ahead, for whole days

Revision ID: 0007_ledger_day_totals
Revises: 0006_ledger_activity
Create Date: 2026-12-02 05:00:00

The totals (see ``audit.day_totals``) are derived from the ledger and guarded like it.
The upgrade sums the days the ledger already holds, so the first owner's question is
fast too: one pass over the ledger (about a minute at 10 million entries on the
reference machine), in the migration's transaction: run ``crmguard migrate`` in a quiet
hour on a large ledger.
"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

from audit import day_totals
from audit.schema import install_append_only_guards


revision = "0007_ledger_day_totals"
down_revision = "0006_ledger_activity"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_day_totals",
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("resource", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("upto", _SEQ, autoincrement=False, nullable=False),
        sa.Column("first_seq", _SEQ, nullable=False),
        sa.Column("events", _SEQ, nullable=False),
        sa.Column("records", _SEQ, nullable=False),
        sa.PrimaryKeyConstraint("actor", "day", "action", "resource", "outcome", "upto"),
    )
    op.create_table(
        "audit_totals_progress",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("totals_upto", _SEQ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    install_append_only_guards(bind)
    day_totals.catch_up(bind, datetime.now(UTC))


def downgrade() -> None:
    op.drop_table("audit_totals_progress")
    op.drop_table("audit_day_totals")
