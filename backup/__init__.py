"""The backup room: snapshot -> compress -> encrypt -> store; manifest; keys; retention;
verify; restore. It imports no other room: the ledger is reached through callbacks."""

from typing import TYPE_CHECKING, Any

from backup.catalog import BackupEntry, flush_spool, list_backups, load_record, spooled
from backup.errors import (
    BackupCorrupt,
    BackupError,
    BackupNotFound,
    KeyMissing,
    SnapshotError,
    StoreError,
    StoreUnavailable,
    TargetError,
    TargetNotEmpty,
    WrongKey,
)
from backup.header import FORMAT_VERSION, Header
from backup.interface import (
    KeyProvider,
    LedgerCheck,
    LedgerHead,
    LedgerHeadFn,
    LedgerVerifyFn,
    ObjectInfo,
    Progress,
    Store,
    WrappedKey,
)
from backup.keys import (
    FileKeyProvider,
    KdfParams,
    PassphraseKeyProvider,
    init_key_file,
    read_key_file,
)
from backup.manifest import Manifest, ManifestRecord
from backup.restore import RestoreResult, restore_backup
from backup.retention import Decision, RetentionPolicy, apply, plan, store_lock
from backup.rotate import RotateResult, rotate_keys
from backup.run import DEFAULT_ZSTD_LEVEL, ZSTD_LEVELS, BackupOptions, BackupResult, create_backup
from backup.stores import LocalStore
from backup.verify import VerifyReport, verify_backup

if TYPE_CHECKING:
    from backup.keys.kms import KmsKeyProvider
    from backup.stores.s3 import S3Store, make_s3_client

#: Names whose modules load boto3/botocore (a fifth of a second): imported on first use,
#: so every command that opens a home without touching S3 or KMS starts without them.
_LAZY = {
    "S3Store": "backup.stores.s3",
    "make_s3_client": "backup.stores.s3",
    "KmsKeyProvider": "backup.keys.kms",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "DEFAULT_ZSTD_LEVEL",
    "FORMAT_VERSION",
    "ZSTD_LEVELS",
    "BackupCorrupt",
    "BackupEntry",
    "BackupError",
    "BackupNotFound",
    "BackupOptions",
    "BackupResult",
    "Decision",
    "FileKeyProvider",
    "Header",
    "KdfParams",
    "KeyMissing",
    "KeyProvider",
    "KmsKeyProvider",
    "LedgerCheck",
    "LedgerHead",
    "LedgerHeadFn",
    "LedgerVerifyFn",
    "LocalStore",
    "Manifest",
    "ManifestRecord",
    "ObjectInfo",
    "PassphraseKeyProvider",
    "Progress",
    "RestoreResult",
    "RetentionPolicy",
    "RotateResult",
    "S3Store",
    "SnapshotError",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TargetError",
    "TargetNotEmpty",
    "VerifyReport",
    "WrappedKey",
    "WrongKey",
    "apply",
    "create_backup",
    "flush_spool",
    "init_key_file",
    "list_backups",
    "load_record",
    "make_s3_client",
    "plan",
    "read_key_file",
    "restore_backup",
    "rotate_keys",
    "spooled",
    "store_lock",
    "verify_backup",
]
