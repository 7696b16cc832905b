"""The shell's wiring of the backup room: stores and key providers built from the
settings, and the audit ledger reached through the callbacks the room asks for.

The backup room knows nothing of the ledger; here, and only here, its head goes into
the manifest and its verification into ``backup verify``.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from sqlalchemy import create_engine, inspect

from backup import (
    BackupError,
    BackupOptions,
    BackupResult,
    FileKeyProvider,
    KeyProvider,
    LedgerCheck,
    LedgerHead,
    LedgerHeadFn,
    LedgerVerifyFn,
    LocalStore,
    PassphraseKeyProvider,
    Progress,
    RestoreResult,
    RetentionPolicy,
    Store,
    VerifyReport,
    create_backup,
    load_record,
    restore_backup,
    verify_backup,
)
from backup.scratch import sweep
from crmguard.db import safe_url
from crmguard.settings import Settings

log = structlog.get_logger("crmguard.backups")
LEDGER_TABLE = "audit_ledger"


def build_store(settings: Settings) -> Store:
    """S3 when a bucket is configured, else the local folder in the home."""
    b = settings.backup
    if b.s3_bucket:
        from backup.stores.s3 import S3Store, make_s3_client  # boto3: only when used

        client = make_s3_client(b.s3_endpoint_url, b.s3_region)
        return S3Store(
            client, b.s3_bucket, b.s3_prefix, b.s3_sse, b.s3_storage_class, b.s3_object_lock_days
        )
    return LocalStore(b.local_dir)


def spool_dir(settings: Settings) -> Path:
    """Staging and spool folder; inside the local folder so publishing there is a rename."""
    return settings.backup.local_dir / ".spool"


def build_key_provider(settings: Settings) -> KeyProvider:
    """KMS if a KMS key is named, else a passphrase if one is set, else the key file."""
    b = settings.backup
    if b.kms_key_id:
        import boto3

        from backup.keys.kms import KmsKeyProvider

        return KmsKeyProvider(b.kms_key_id, boto3.client("kms", region_name=b.s3_region))
    if b.passphrase:
        return PassphraseKeyProvider(b.passphrase)
    return FileKeyProvider(b.key_file)


def retention_policy(settings: Settings) -> RetentionPolicy:
    return settings.backup.retention


def _has_ledger(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return LEDGER_TABLE in inspect(conn).get_table_names()
    finally:
        engine.dispose()


def ledger_head_fn(settings: Settings) -> LedgerHeadFn:
    """Reads the ledger head from a database URL (the snapshot's, when it is a file)."""

    def head(url: str) -> LedgerHead | None:
        if not _has_ledger(url):
            return None
        from audit import Ledger, load_key_file

        engine = create_engine(url)
        try:
            got = Ledger(engine, load_key_file(settings.mac_key_file)).head()
        finally:
            engine.dispose()
        return LedgerHead(got[0], got[1]) if got else None

    return head


def ledger_verify_fn(settings: Settings) -> LedgerVerifyFn:
    """Verifies the ledger inside a restored database."""

    def check(url: str) -> LedgerCheck | None:
        if not _has_ledger(url):
            return None
        from audit import Ledger, load_key_file

        engine = create_engine(url)
        try:
            result = Ledger(engine, load_key_file(settings.mac_key_file)).verify()
        finally:
            engine.dispose()
        problem = result.problem
        if not result.ok and result.first_bad_seq is not None:
            problem = f"entry {result.first_bad_seq}: {problem}"
        return LedgerCheck(result.ok, result.checked, problem)

    return check


def run_backup(settings: Settings, progress: Progress | None = None) -> BackupResult:
    """One backup of the configured database to the configured store."""
    result = create_backup(
        settings.database_url,
        build_store(settings),
        build_key_provider(settings),
        spool_dir(settings),
        ledger_head=ledger_head_fn(settings),
        options=BackupOptions(zstd_level=settings.backup.zstd_level),
        progress=progress or (lambda _n: None),
    )
    if result.spooled:
        log.warning("backup_spooled", backup_id=result.backup_id)
    return result


def verify(settings: Settings, backup_id: str, progress: Progress | None = None) -> VerifyReport:
    """Restore into a scratch place and check everything, including the ledger."""
    pg = settings.database_url if settings.database_url.startswith("postgresql") else None
    return verify_backup(
        build_store(settings),
        build_key_provider(settings),
        backup_id,
        spool_dir(settings),
        ledger_verify=ledger_verify_fn(settings),
        pg_server_url=pg,
        progress=progress or (lambda _n: None),
    )


def plaintext_size(settings: Settings, backup_id: str) -> int | None:
    """The backup's restored size, for a progress bar's total; None when it cannot be
    read (the operation itself then reports why)."""
    try:
        return load_record(build_store(settings), backup_id).manifest.plaintext_bytes
    except BackupError:
        return None


def describe_target(url: str) -> str:
    """A restore target named without credentials: the file, or the server and database."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    return safe_url(url)


def manifest_ledger_head(settings: Settings, backup_id: str) -> LedgerHead | None:
    """The ledger head a backup holds (from its manifest)."""
    return load_record(build_store(settings), backup_id).manifest.ledger


def sweep_scratch(settings: Settings) -> list[str]:
    """Remove plaintext scratch folders a killed run left in the spool."""
    return sweep(spool_dir(settings))


def restore(
    settings: Settings,
    backup_id: str,
    target: str,
    force: bool,
    progress: Progress | None = None,
) -> RestoreResult:
    return restore_backup(
        build_store(settings),
        build_key_provider(settings),
        backup_id,
        target,
        force=force,
        workdir=spool_dir(settings),
        progress=progress or (lambda _n: None),
    )
