"""ledger: public hash chain plus keyed seal (audit_ledger.mac)

Revision ID: 0002_ledger
Revises: 0001
Create Date: 2026-11-30 22:40:00

Entries written from now on carry ``hash = SHA-256(prev_hash + canonical)`` (public, so
an auditor needs no secret) and ``mac = HMAC(key, hash)``. Existing rows are left as
they are (``mac`` NULL): their keyed hash still verifies with the MAC key, and the new
entries link onto the last of them, so an existing ledger keeps verifying. The column
is added in place (no table rebuild), so the append-only triggers stay installed.
"""

from alembic import op
import sqlalchemy as sa


revision = '0002_ledger'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_ledger', sa.Column('mac', sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Entries with a seal cannot be checked by the old code; refuse rather than lose it.
    raise RuntimeError("the ledger's public chain cannot be downgraded")
