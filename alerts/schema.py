"""The alerts room's tables, on their own MetaData (the shell's migrations create them).

``alerts`` holds one row per alert with its lifecycle. ``active_key`` is ``user/rule``
while the alert is open or acknowledged and NULL afterwards: a unique column that both
SQLite and PostgreSQL enforce (NULLs never collide), so two writers can never hold two
active alerts for the same user and rule. ``alert_outbox`` holds one row per message
and channel until it is delivered; ``alert_cursor`` remembers how far the live loop has
read the ledger.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

# The same convention as the other rooms' tables, spelled here so alerts needs no CRM import.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

_BIG = BigInteger().with_variant(Integer, "sqlite")

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(200), nullable=False),
    Column("rule", String(100), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("summary", Text, nullable=False),
    # JSON text: seq range, counts, baseline, sampled record ids; never record contents.
    Column("evidence", Text, nullable=False),
    Column("first_ts", DateTime(timezone=True), nullable=False),
    Column("last_ts", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_by", String(200), nullable=True),
    Column("status_at", DateTime(timezone=True), nullable=True),
    Column("active_key", String(310), nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_alerts_status", "status"),
    Index("ix_alerts_username", "username"),
)

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=True),
    Column("channel", String(100), nullable=False),
    # The message as JSON text, frozen when it was queued (what the alert said then).
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("ix_alert_outbox_status_next", "status", "next_attempt_at"),
    Index("ix_alert_outbox_channel", "channel"),
)

alert_cursor = Table(
    "alert_cursor",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", _BIG, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
