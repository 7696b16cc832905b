"""Names of a backup's objects, listing from manifests, the local spool.

A backup ``ID`` is ``backups/ID.data`` plus ``backups/ID.manifest`` (written last, so
its presence means "complete") and, once a verify succeeded, ``backups/ID.verified``.
Backups that could not be uploaded wait complete in the spool folder and are uploaded
by the next run, data first and manifest last.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from backup.errors import BackupCorrupt, BackupError, BackupNotFound, StoreError, StoreUnavailable
from backup.interface import Store
from backup.manifest import Manifest, ManifestRecord

PREFIX = "backups/"
log = structlog.get_logger("backup.catalog")


def data_key(backup_id: str) -> str:
    return f"{PREFIX}{backup_id}.data"


def manifest_key(backup_id: str) -> str:
    return f"{PREFIX}{backup_id}.manifest"


def verified_key(backup_id: str) -> str:
    return f"{PREFIX}{backup_id}.verified"


@dataclass(frozen=True)
class BackupEntry:
    """A complete backup as listed: its manifest, key id and last successful verify."""

    manifest: Manifest
    key_id: str
    verified_at: datetime | None = None
    spooled: bool = False

    @property
    def backup_id(self) -> str:
        return self.manifest.backup_id


def load_record(store: Store, backup_id: str) -> ManifestRecord:
    """The stored manifest of a complete backup, or BackupNotFound."""
    key = manifest_key(backup_id)
    if not any(o.key == key for o in store.list(key)):
        raise BackupNotFound(backup_id)
    return ManifestRecord.decode(store.get_bytes(key), f"backup {backup_id}")


def list_backups(store: Store) -> list[BackupEntry]:
    """Complete backups (those with a manifest), oldest first."""
    names = {o.key for o in store.list(PREFIX)}
    entries = []
    for key in sorted(names):
        if not key.endswith(".manifest"):
            continue
        backup_id = key[len(PREFIX) : -len(".manifest")]
        if data_key(backup_id) not in names:
            log.warning("backup_data_missing", backup_id=backup_id)
            continue
        try:
            record = ManifestRecord.decode(store.get_bytes(key), f"backup {backup_id}")
        except BackupCorrupt as exc:
            log.warning("backup_manifest_damaged", backup_id=backup_id, problem=str(exc))
            continue
        verified = None
        if verified_key(backup_id) in names:
            try:
                stamp = json.loads(store.get_bytes(verified_key(backup_id)))["verified_at"]
                verified = datetime.fromisoformat(stamp)
            except (ValueError, KeyError, TypeError):
                verified = None
        entries.append(BackupEntry(record.manifest, record.header.wrapped.key_id, verified))
    entries.sort(key=lambda e: (e.manifest.created_at, e.backup_id))
    return entries


def mark_verified(store: Store, backup_id: str, when: datetime | None = None) -> None:
    stamp = (when or datetime.now(UTC)).isoformat()
    store.put_bytes(verified_key(backup_id), json.dumps({"verified_at": stamp}).encode())


def spool_paths(spool: Path, backup_id: str) -> tuple[Path, Path]:
    return spool / f"{backup_id}.data", spool / f"{backup_id}.manifest"


def spooled(spool: Path) -> list[BackupEntry]:
    """Complete backups waiting in the spool for upload."""
    out: list[BackupEntry] = []
    if not spool.is_dir():
        return out
    for man in sorted(spool.glob("*.manifest")):
        backup_id = man.name[: -len(".manifest")]
        if not spool_paths(spool, backup_id)[0].exists():
            continue
        try:
            record = ManifestRecord.decode(man.read_bytes(), f"spooled backup {backup_id}")
        except BackupError:
            continue
        out.append(BackupEntry(record.manifest, record.header.wrapped.key_id, spooled=True))
    return out


def publish(store: Store, spool: Path, backup_id: str) -> None:
    """Move a spooled backup into the store: data first, manifest last."""
    data, man = spool_paths(spool, backup_id)
    store.put_file(data_key(backup_id), data)
    store.put_bytes(manifest_key(backup_id), man.read_bytes())
    data.unlink(missing_ok=True)
    man.unlink(missing_ok=True)


def flush_spool(store: Store, spool: Path) -> list[str]:
    """Upload every spooled backup; stop quietly at the first unreachable-store error."""
    done = []
    for entry in spooled(spool):
        try:
            publish(store, spool, entry.backup_id)
        except StoreUnavailable as exc:
            log.warning("spool_upload_deferred", backup_id=entry.backup_id, problem=str(exc))
            break
        log.info("spool_uploaded", backup_id=entry.backup_id)
        done.append(entry.backup_id)
    return done


def remove_stale_parts(spool: Path) -> None:
    """Half-written staging files from a run that died; complete spooled backups stay."""
    if spool.is_dir():
        for part in spool.glob("*.part"):
            try:
                os.unlink(part)
            except OSError as exc:
                raise StoreError(f"cannot clean the spool {spool}: {exc.strerror}") from None
