"""ledger record index and search indexes: owners' questions answered from an index

Revision ID: 0005_ledger_index
Revises: 0001
Create Date: 2026-11-30 22:30:00
"""

from alembic import op
import sqlalchemy as sa

from audit import record_index
from audit.schema import install_append_only_guards


revision = '0005_ledger_index'
down_revision = '0001'
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_ACTIVITY = ['actor', 'ts', 'action', 'outcome', 'count']
_SEARCH_INDEXES = (
    ('ix_audit_ledger_actor_seq', ['actor', 'seq']),
    ('ix_audit_ledger_action_seq', ['action', 'seq']),
    ('ix_audit_ledger_outcome_seq', ['outcome', 'seq']),
    ('ix_audit_ledger_channel_seq', ['channel', 'seq']),
)


def upgrade() -> None:
    op.create_table('audit_record_index',
    sa.Column('rid', sa.Text(), nullable=False),
    sa.Column('resource', sa.String(length=100), nullable=False),
    sa.Column('seq', _SEQ, nullable=False),
    sa.PrimaryKeyConstraint('rid', 'resource', 'seq')
    )
    op.create_table('audit_index_progress',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('indexed_upto', _SEQ, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_ledger', schema=None) as batch_op:
        for name, columns in _SEARCH_INDEXES:
            batch_op.create_index(name, columns, unique=False)
        # (actor, ts) grows into a covering index for the per-day activity view.
        batch_op.drop_index('ix_audit_ledger_actor_ts')
        batch_op.create_index('ix_audit_ledger_actor_activity', _ACTIVITY, unique=False)
    bind = op.get_bind()
    # SQLite's batch mode may rebuild audit_ledger: put its guards back, and guard the index.
    install_append_only_guards(bind)
    # Index the ledger that already exists, so the first owner's query is fast too.
    record_index.catch_up(bind)


def downgrade() -> None:
    with op.batch_alter_table('audit_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_ledger_actor_activity')
        batch_op.create_index('ix_audit_ledger_actor_ts', ['actor', 'ts'], unique=False)
        for name, _ in reversed(_SEARCH_INDEXES):
            batch_op.drop_index(name)
    op.drop_table('audit_index_progress')
    op.drop_table('audit_record_index')
