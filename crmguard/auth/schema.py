"""The authentication tables, in their own MetaData.

Nothing here can be used to sign in by someone who reads the database: passwords are
Argon2id hashes, token and session ids are SHA-256 hashes of 256-bit random values
(a keyed or slow hash adds nothing against a value that cannot be guessed), and
the TOTP secret is the one exception a second factor cannot avoid (documented in
docs/api.md: who holds the database can compute codes, not passwords).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from crm_models.base import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: One row per user who has a password; ``totp_secret`` is set once TOTP is enrolled.
#: Rows hold plain user ids (no foreign key across MetaData), so tokens and sessions
#: stay as history after a user is removed.
auth_credentials = Table(
    "auth_credentials",
    metadata,
    Column("user_id", Integer, primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("totp_secret", String(64), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: API tokens for scripts and integrations; ``token_hash`` is SHA-256 of the token.
auth_tokens = Table(
    "auth_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Index("ix_auth_tokens_token_hash", "token_hash", unique=True),
    Index("ix_auth_tokens_user_id", "user_id"),
)

#: Password sign-in sessions; ``id_hash`` is SHA-256 of the opaque id in the cookie.
auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("id_hash", String(64), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ip", String(64), nullable=True),
    Column("ended", Boolean, nullable=False, default=False),
    Index("ix_auth_sessions_id_hash", "id_hash", unique=True),
    Index("ix_auth_sessions_user_id", "user_id"),
)

#: Failed sign-ins, kept in the database so several instances count them together.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_auth_failures_username_at", "username", "at"),
    Index("ix_auth_failures_ip_at", "ip", "at"),
)
