"""Alembic migrations for every room's tables (CRM core, access, audit)."""
