"""Key rotation: re-wrap every backup's data key under a new KEK.

Only the manifest object changes (it carries the header with the wrapped key); the data
objects are never read or rewritten, so rotating a terabyte of backups takes seconds.
The manifest MAC is keyed by the data key, which does not change, so it stays valid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import structlog

from backup.catalog import list_backups, load_record, manifest_key
from backup.interface import KeyProvider, Store
from backup.manifest import ManifestRecord

log = structlog.get_logger("backup.rotate")


@dataclass(frozen=True)
class RotateResult:
    rewrapped: tuple[str, ...]
    already_current: tuple[str, ...]
    new_key_id: str


def rotate_keys(store: Store, old: KeyProvider, new: KeyProvider) -> RotateResult:
    """Re-wrap all complete backups' data keys from ``old`` to ``new``."""
    done, skipped = [], []
    for entry in list_backups(store):
        backup_id = entry.backup_id
        record = load_record(store, backup_id)
        if record.header.wrapped.key_id == new.key_id:
            skipped.append(backup_id)
            continue
        data_key = old.unwrap(record.header.wrapped, backup_id)
        record.check(data_key)
        header = replace(record.header, wrapped=new.wrap(data_key, backup_id))
        manifest = replace(record.manifest, key_id=header.wrapped.key_id)
        rewritten = ManifestRecord.seal(header, manifest, data_key)
        store.put_bytes(manifest_key(backup_id), rewritten.encode())
        log.info("backup_rewrapped", backup_id=backup_id, key_id=header.wrapped.key_id)
        done.append(backup_id)
    return RotateResult(tuple(done), tuple(skipped), new.key_id)
