"""Private scratch folders for plaintext: snapshots, verify and restore copies.

A snapshot or a restored copy is the client base in clear, so it lives in a 0700 folder
inside the spool, is removed on every exit path Python sees (errors, Ctrl-C, SIGTERM
turned into an exception by the CLI), and a folder left behind by a process that was
killed outright is swept at the next backup, verify or restore, and at daemon start.

Each folder holds a lock file, locked for as long as its owner lives; the kernel drops
the lock when the owner dies, however it died. The sweep removes folders whose lock it
can take, so a concurrent run's folder is never pulled from under it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog

PREFIXES = (".snap-", ".verify-", ".restore-")
BESIDE = ".crmguard-restore-"
"""A restore into a SQLite file stages it in a locked folder beside the target (same file
system, so moving it into place is a rename); only folders with this prefix are ever
swept there, since the target's folder belongs to someone else."""
LOCK = ".owner.lock"
YOUNG = 60.0
"""A folder younger than this without its lock file may be just being created."""

log = structlog.get_logger("backup.scratch")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700 whatever the umask."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@contextmanager
def scratch_dir(workdir: Path, prefix: str) -> Iterator[Path]:
    """A locked 0700 folder in ``workdir``, removed when the block ends.

    ``workdir`` itself is made 0700 when it is crmguard's own spool; a restore's staging
    folder (prefix :data:`BESIDE`) leaves the target's folder as it is.
    """
    if prefix not in (*PREFIXES, BESIDE):
        raise ValueError(f"unknown scratch prefix {prefix!r}")
    if prefix == BESIDE:
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        private_dir(workdir)
    path = Path(tempfile.mkdtemp(dir=workdir, prefix=prefix))
    try:
        fd = os.open(path / LOCK, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield path
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep(workdir: Path, prefixes: tuple[str, ...] = PREFIXES) -> list[str]:
    """Remove scratch folders left by dead processes; returns the names removed."""
    removed: list[str] = []
    if not workdir.is_dir():
        return removed
    for entry in sorted(workdir.iterdir()):
        if not entry.name.startswith(prefixes) or not entry.is_dir() or entry.is_symlink():
            continue
        if _abandoned(entry):
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                removed.append(entry.name)
    if removed:
        log.warning("stale_scratch_removed", folders=removed)
    return removed


def _abandoned(path: Path) -> bool:
    lock = path / LOCK
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        try:
            return time.time() - path.stat().st_mtime > YOUNG
        except OSError:
            return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
