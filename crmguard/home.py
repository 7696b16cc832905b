"""Creating a home: directories, default settings, policies, keys and the schema.

A home is refused when it already holds a crmguard installation, unless ``force``
is given. A database whose ledger holds events is evidence: resetting it also needs
``yes``, and then the old database is moved aside under a timestamped name (a renamed
SQLite file, or a PostgreSQL schema), never deleted. A database with an empty ledger is
emptied. The key files are kept either way, so backups and exports made with them stay
verifiable.

Everything private is private whatever the umask: the home and key folders are 0700,
the database file, key files and the settings file 0600.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import MetaData, inspect, text

import access.schema
import alerts.schema
import audit
import audit.schema
import crm_models
import policies
from backup import init_key_file
from crmguard import schedule
from crmguard.db import check_connection, make_engine, safe_url
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

[alerts]
# poll_interval = 0.1          # seconds between looks at the ledger (live detection)
# retry_base_seconds = 5       # first retry of a failed delivery; doubles up to ...
# retry_max_seconds = 3600     # ... this (a message is never dropped)

# Where alerts go (see docs/alerts.md). Every alert is written to this file (mode 0600).
[alerts.channels.file]
type = "file"
path = "alerts.jsonl"
min_severity = "low"

# [alerts.channels.mail]
# type = "smtp"
# host = "mail.example.net"      # STARTTLS on 587 by default
# from = "crmguard@example.net"
# to = ["security@example.net"]
# username = "crmguard"
# password_env = "CRMGUARD_SMTP_PASSWORD"   # or password_file = "/etc/crmguard/smtp.pass" (0600)
# min_severity = "high"
"""


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if missing; make an existing one 0600.

    SQLite creates its -wal and -shm files with the mode of the database file, so a
    database file made here keeps the whole database private.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _all_metadata() -> list[MetaData]:
    import crmguard.auth.schema

    return [
        crmguard.auth.schema.metadata,
        alerts.schema.metadata,
        audit.schema.metadata,
        access.schema.metadata,
        crm_models.Base.metadata,
    ]


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


def ledger_events(settings: Settings) -> int:
    """How many events the home's ledger holds (0 when there is no ledger)."""
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        with engine.connect() as conn:
            if "audit_ledger" not in inspect(conn).get_table_names():
                return 0
            return int(conn.execute(text("SELECT count(*) FROM audit_ledger")).scalar_one())
    finally:
        engine.dispose()


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _move_aside(settings: Settings) -> str:
    """Keep the old database under a timestamped name; returns where it went."""
    stamp = _stamp()
    if settings.embedded:
        db = sqlite_path(settings)
        kept = db.with_name(f"{db.name}.replaced-{stamp}")
        n = 1
        while kept.exists():
            n += 1
            kept = db.with_name(f"{db.name}.replaced-{stamp}-{n}")
        # The -wal file holds committed events not yet in the main file: it moves too,
        # under the name SQLite looks for beside the renamed file.
        for suffix in ("-wal", "-shm", ""):
            src = Path(f"{db}{suffix}")
            if src.exists():
                os.replace(src, Path(f"{kept}{suffix}"))
        return str(kept)
    schema = f"replaced_{stamp.lower()}"
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            for name in inspect(conn).get_table_names():
                conn.execute(text(f'ALTER TABLE "{name}" SET SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    return f"schema {schema} of {safe_url(settings.database_url)}"


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


@dataclass(frozen=True)
class HomeReady:
    """What ``init`` did that its caller must tell the person running it."""

    #: Where the old database was kept when a reset moved it aside.
    kept: str | None = None
    #: The checkpoint public key (hex) when this call made the signing key: the one
    #: moment to hand it to the auditors (``crmguard audit pubkey`` shows it again).
    public_key: str | None = None


def init_home(settings: Settings, *, force: bool = False, yes: bool = False) -> HomeReady:
    """Create (or, with ``force``, reset) the home described by ``settings``."""
    existing = _existing(settings)
    if existing and not force:
        raise HomeExists(
            f"{settings.home} already holds a crmguard home; pass --force to reset its "
            "database (key files are kept), or choose another --home"
        )
    events = ledger_events(settings) if existing else 0
    if events and not yes:
        raise HomeExists(
            f"the ledger of {settings.home} holds {events} events; resetting would hide "
            "them: add --yes to move the old database aside (it is kept, renamed with a "
            "timestamp), or choose another --home"
        )
    _private_dir(settings.home)
    _private_dir(settings.mac_key_file.parent)
    kept = None
    if force and events:
        kept = _move_aside(settings)
    elif force:
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
    if settings.embedded:
        _private_file(sqlite_path(settings))
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        upgrade(engine)
    finally:
        engine.dispose()
    _write_settings(settings)
    schedule.mark_created(settings, datetime.now(UTC))
    return HomeReady(kept, public)


def _write_settings(settings: Settings) -> None:
    """Write the default settings (0600), recording a database URL given through the
    environment: without it, the next command run without the variable would silently
    open a new, empty SQLite file in the home."""
    path = settings.settings_file
    url = None if settings.embedded and _is_default_db(settings) else settings.database_url
    if path.exists():
        os.chmod(path, 0o600)
        if url is None or _recorded_url(path) is not None:
            return
        text_ = path.read_text(encoding="utf-8")
    else:
        text_ = DEFAULT_SETTINGS
    if url is not None:
        line = f"url = {json.dumps(url)}\n"
        if "\n[database]\n" in text_:
            text_ = text_.replace("\n[database]\n", f"\n[database]\n{line}", 1)
        else:
            text_ += f"\n[database]\n{line}"
    tmp = settings.home / f".{SETTINGS_FILE}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(text_)
    tmp.replace(path)


def _is_default_db(settings: Settings) -> bool:
    return sqlite_path(settings) == settings.home / "crmguard.db"


def _recorded_url(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            database = tomllib.load(fh).get("database", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    url = database.get("url") if isinstance(database, dict) else None
    return str(url) if url else None


def sqlite_path(settings: Settings) -> Path:
    """The embedded database file (only meaningful when ``settings.embedded``)."""
    return Path(settings.database_url.removeprefix("sqlite:///"))
