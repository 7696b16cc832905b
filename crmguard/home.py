"""Creating a home: directories, default settings, policies, keys and the schema.

A home is refused when it already holds a crmguard installation, unless ``force``
is given; then its database is emptied (the key files are kept, so backups and
exports made with them stay verifiable).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import MetaData, text

import access.schema
import audit
import audit.schema
import crm_models
import policies
from backup import init_key_file
from crmguard.db import check_connection, make_engine
from crmguard.errors import HomeExists
from crmguard.ledger_anchors import ensure_signing_key
from crmguard.schema import current_revision, upgrade
from crmguard.settings import SETTINGS_FILE, Settings

DEFAULT_SETTINGS = """\
# crmguard settings. Environment variables (CRMGUARD_*) override what is set here.

# log_level = "warning"

[database]
# Leave unset for the embedded SQLite database in this home, or e.g.
# url = "postgresql+psycopg://crmguard@db.internal:5432/crm"

[policies]
# dir = "/etc/crmguard/policies"   # default: the policies/ folder in this home

[anchors]
# Signed ledger heads kept outside the database (see docs/audit.md, "Anchors").
# file = "/mnt/other-disk/crmguard-anchors.jsonl"   # default: anchors/ledger-anchors.jsonl here
# every = 1000                  # anchor after this many events ...
# seconds = 60                  # ... or this many seconds, and at shutdown
# s3_bucket = "acme-ledger-anchors"   # one object per anchor; Object Lock if the bucket has it
# s3_prefix = "crmguard-anchors/"
# s3_endpoint_url = "https://s3.example.net"
# s3_retention_days = 3650
# syslog = "udp://siem.internal:514"   # or tcp://host:port, or /dev/log

[backup]
# s3_bucket = "acme-crm-backups"   # unset: backups go to the backups/ folder in this home
# s3_prefix = "crmguard/"
# s3_endpoint_url = "https://s3.example.net"
# key_file = "/media/usb/crmguard-backup.key"
schedule = "0 2 * * *"            # cron: every night at 02:00
drill_schedule = "0 4 * * 0"      # restore drill: Sundays at 04:00

[backup.retention]
keep_last = 7
daily = 14
weekly = 8
monthly = 12
"""


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _all_metadata() -> list[MetaData]:
    return [audit.schema.metadata, access.schema.metadata, crm_models.Base.metadata]


def _existing(settings: Settings) -> bool:
    """True when the database already holds a crmguard schema."""
    if settings.embedded and not sqlite_path(settings).exists():
        return False
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        return current_revision(engine) is not None
    finally:
        engine.dispose()


def _empty_database(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        with engine.begin() as conn:
            for md in _all_metadata():
                md.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()


def init_home(settings: Settings, *, force: bool = False) -> str | None:
    """Create (or, with ``force``, reset) the home described by ``settings``.

    Returns the checkpoint public key (hex) when this call made the signing key: the
    one moment to hand it to the auditors (``crmguard audit pubkey`` shows it again).
    """
    if _existing(settings) and not force:
        raise HomeExists(
            f"{settings.home} already holds a crmguard home; pass --force to reset its "
            "database (key files are kept), or choose another --home"
        )
    _private_dir(settings.home)
    _private_dir(settings.mac_key_file.parent)
    if force:
        if settings.embedded:
            db = sqlite_path(settings)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        else:
            _empty_database(settings)
    if not settings.policy_dir.exists():
        shutil.copytree(
            policies.DEFAULT_DIR,
            settings.policy_dir,
            ignore=shutil.ignore_patterns("*.py", "__pycache__", "py.typed"),
        )
    if not settings.mac_key_file.exists():
        audit.create_key_file(settings.mac_key_file)
    # Checkpoints are on by default: the signing key and the anchor file exist from day one.
    public = ensure_signing_key(settings)
    # Backups must work out of the box; a passphrase or a key on removable media can
    # replace this file later (see docs/backup.md).
    if settings.backup.passphrase is None and not settings.backup.key_file.exists():
        init_key_file(settings.backup.key_file)
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        upgrade(engine)
    finally:
        engine.dispose()
    if not settings.settings_file.exists():
        tmp = settings.home / f".{SETTINGS_FILE}.tmp"
        tmp.write_text(DEFAULT_SETTINGS, encoding="utf-8")
        tmp.replace(settings.settings_file)
    return public


def sqlite_path(settings: Settings) -> Path:
    """The embedded database file (only meaningful when ``settings.embedded``)."""
    return Path(settings.database_url.removeprefix("sqlite:///"))
