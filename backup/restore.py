"""Restoring a backup into a SQLite file or a PostgreSQL database.

The backup is written to a temporary target next to the real one, checked (hash,
SQLite quick check or PostgreSQL row counts against the manifest), and only then moved
into place. A target that holds data is refused unless ``force``: a restore must never
destroy the very data someone meant to keep.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from backup.catalog import load_record
from backup.errors import SnapshotError, TargetError, TargetNotEmpty
from backup.interface import KeyProvider, Progress, Store, no_progress
from backup.scratch import BESIDE, scratch_dir, sweep
from backup.snapshot import PG_CUSTOM, describe_url
from backup.stores.local import os_error_message
from backup.targets import PgTarget, check_sqlite, place_sqlite, sqlite_has_data, write_sqlite


@dataclass(frozen=True)
class RestoreResult:
    """What was restored where, with the checked row counts."""

    backup_id: str
    target: str
    tables: dict[str, int]
    bytes: int
    seconds: float


def is_url(target: str) -> bool:
    return "://" in target


def restore_backup(
    store: Store,
    provider: KeyProvider,
    backup_id: str,
    target: str,
    *,
    force: bool = False,
    workdir: Path | None = None,
    progress: Progress = no_progress,
) -> RestoreResult:
    """Restore ``backup_id`` into ``target`` (a path, a sqlite:/// or a postgresql URL)."""
    started = time.perf_counter()
    if workdir is not None:
        sweep(workdir)
    manifest = load_record(store, backup_id).manifest
    if is_url(target) and not target.startswith("sqlite"):
        if not target.startswith("postgresql"):
            raise SnapshotError("restore targets are SQLite files and PostgreSQL URLs")
        tables = _restore_pg(store, provider, backup_id, target, force, workdir, progress)
        where = describe_url(target)
    else:
        path = Path(target.split("///", 1)[1] if target.startswith("sqlite") else target)
        if manifest.payload == PG_CUSTOM:
            raise SnapshotError(
                f"backup {backup_id} is a pg_dump archive; restore it into a PostgreSQL URL"
            )
        tables = _restore_sqlite(store, provider, backup_id, path.absolute(), force, progress)
        where = str(path)
    return RestoreResult(
        backup_id,
        where,
        tables,
        manifest.plaintext_bytes,
        round(time.perf_counter() - started, 3),
    )


def _refuse(where: str) -> TargetNotEmpty:
    return TargetNotEmpty(f"{where} already holds data; add --force to replace it")


def _restore_sqlite(
    store: Store,
    provider: KeyProvider,
    backup_id: str,
    path: Path,
    force: bool,
    progress: Progress,
) -> dict[str, int]:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise TargetError(
            f"{path} is not a regular file (a link, device, FIFO or folder); "
            "refusing to replace it: restore into a new file name"
        )
    if not force and sqlite_has_data(path):
        raise _refuse(str(path))
    try:
        sweep(path.parent, (BESIDE,))  # what a killed restore left beside the target
        with scratch_dir(path.parent, BESIDE) as staging:
            tmp = staging / path.name
            manifest = write_sqlite(store, provider, backup_id, tmp, progress)
            tables = check_sqlite(tmp, manifest, full=False)
            if not force and sqlite_has_data(path):
                raise _refuse(str(path))
            place_sqlite(tmp, path)
    except OSError as exc:
        where = Path(exc.filename) if isinstance(exc.filename, str) else path.parent
        raise TargetError(
            f"restore of {backup_id} failed: {os_error_message(exc, where)}; {path} is untouched"
        ) from None
    return tables


def _restore_pg(
    store: Store,
    provider: KeyProvider,
    backup_id: str,
    url: str,
    force: bool,
    workdir: Path | None,
    progress: Progress,
) -> dict[str, int]:
    manifest = load_record(store, backup_id).manifest
    target = PgTarget(url)
    try:
        if not force and target.has_data():
            raise _refuse(describe_url(url))
        scratch = target.create_scratch("restore")
        try:
            tables = target.fill(
                scratch, store, provider, backup_id, manifest, workdir or Path.cwd(), progress
            )
            if not force and target.has_data():
                raise _refuse(describe_url(url))
            target.swap_in(scratch)
        except BaseException:
            target.drop(scratch)
            raise
        return tables
    finally:
        target.dispose()
