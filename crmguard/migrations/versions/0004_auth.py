"""authentication: credentials, API tokens, sessions, failed sign-ins

Revision ID: 0004_auth
Revises: 0003_alerts
"""

from alembic import op
import sqlalchemy as sa


revision = '0004_auth'
down_revision = '0003_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auth_credentials',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_auth_credentials'))
    )
    op.create_table('auth_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_tokens'))
    )
    op.create_index('ix_auth_tokens_token_hash', 'auth_tokens', ['token_hash'], unique=True)
    op.create_index('ix_auth_tokens_user_id', 'auth_tokens', ['user_id'], unique=False)
    op.create_table('auth_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('ended', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions'))
    )
    op.create_index('ix_auth_sessions_id_hash', 'auth_sessions', ['id_hash'], unique=True)
    op.create_index('ix_auth_sessions_user_id', 'auth_sessions', ['user_id'], unique=False)
    op.create_table('auth_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_failures'))
    )
    op.create_index('ix_auth_failures_username_at', 'auth_failures', ['username', 'at'], unique=False)
    op.create_index('ix_auth_failures_ip_at', 'auth_failures', ['ip', 'at'], unique=False)


def downgrade() -> None:
    for index, table in (
        ('ix_auth_failures_ip_at', 'auth_failures'),
        ('ix_auth_failures_username_at', 'auth_failures'),
        ('ix_auth_sessions_user_id', 'auth_sessions'),
        ('ix_auth_sessions_id_hash', 'auth_sessions'),
        ('ix_auth_tokens_user_id', 'auth_tokens'),
        ('ix_auth_tokens_token_hash', 'auth_tokens'),
    ):
        op.drop_index(index, table_name=table)
    for table in ('auth_failures', 'auth_sessions', 'auth_tokens', 'auth_credentials'):
        op.drop_table(table)
