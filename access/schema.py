"""The access room's own tables, in its own MetaData.

Restrictions belong to access, not to the CRM core, so they live in a separate
``MetaData``; the shell's migrations create them from :data:`metadata`.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text

from crm_models.base import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: One row per restriction ever placed; lifting stamps ``lifted_at``/``lifted_by`` and
#: never deletes, so the history of who froze whom stays visible.
access_restrictions = Table(
    "access_restrictions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("lifted_at", DateTime(timezone=True), nullable=True),
    Column("lifted_by", String(64), nullable=True),
    Index("ix_access_restrictions_username", "username"),
)
