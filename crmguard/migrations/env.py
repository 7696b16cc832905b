"""Alembic environment: runs on the connection crmguard hands in (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData

import access.schema
import alerts.schema
import audit.schema
import crm_models
import crmguard.auth.schema


def _target_metadata() -> list[MetaData]:
    return [
        crm_models.Base.metadata,
        access.schema.metadata,
        audit.schema.metadata,
        alerts.schema.metadata,
        crmguard.auth.schema.metadata,
    ]


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("crmguard runs migrations on a connection it provides")
    context.configure(
        connection=connection,
        target_metadata=_target_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; run `crmguard migrate`")
run_migrations_online()
