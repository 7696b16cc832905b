"""ledger record index, search indexes and archives: owners' questions answered from an index

Revision ID: 0005_ledger_index
Revises: 0004_auth
Create Date: 2026-11-30 22:30:00
"""

from alembic import op
import sqlalchemy as sa

from audit import record_index
from audit.schema import drop_sqlite_delete_guards, install_append_only_guards


revision = '0005_ledger_index'
down_revision = '0004_auth'
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_ACTIVITY = ['actor', 'ts', 'action', 'resource', 'outcome', 'count']
_SEARCH_INDEXES = (
    ('ix_audit_ledger_actor_seq', ['actor', 'seq']),
    ('ix_audit_ledger_action_seq', ['action', 'seq']),
    ('ix_audit_ledger_actor_action_seq', ['actor', 'action', 'seq']),
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
    op.create_table('audit_archives',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('seq_from', _SEQ, nullable=False),
    sa.Column('seq_to', _SEQ, nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('first_ts', sa.String(length=27), nullable=False),
    sa.Column('last_ts', sa.String(length=27), nullable=False),
    sa.Column('object_key', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', _SEQ, nullable=False),
    sa.Column('sealed_at', sa.String(length=27), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('seq_from')
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
    # The DELETE guards gain their one exception (entries an archive covers); SQLite's
    # batch mode may also have rebuilt audit_ledger without its triggers.
    if bind.dialect.name == "sqlite":
        drop_sqlite_delete_guards(bind)
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
    op.drop_table('audit_archives')
    op.drop_table('audit_record_index')
