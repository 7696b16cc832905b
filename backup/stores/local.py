"""A local folder as a store: the embedded default, and the spool when S3 is away.

Every write goes to a ``.part`` file, is flushed to disk, then renamed into place, so a
crash or a full disk never leaves a half-written object under a real name and never
touches the objects already there.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from backup.errors import StoreError
from backup.interface import ObjectInfo, Progress, Store, no_progress

PART = ".part"


def os_error_message(exc: OSError, path: Path) -> str:
    """One line that says what happened to ``path`` and what to do."""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device holding {path}; free space and run again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write to {path}: {exc.strerror} (check the folder's permissions)"
    if exc.errno == errno.ENOTDIR:
        return f"cannot use {path}: a parent of it is not a folder"
    return f"{path}: {exc.strerror or exc}"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fsynced ``.part`` file and a rename, so a
    crash or a full disk leaves either the old file or the new one, never half of one."""
    part = path.with_name(path.name + PART)
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise StoreError(os_error_message(exc, path)) from None


class LocalStore(Store):
    """Objects are files under ``root``; keys map to relative paths."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise StoreError(f"refusing unsafe object key {key!r}")
        return self.root / key

    def _prepare(self, target: Path) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(os_error_message(exc, target.parent)) from None

    def put_file(self, key: str, path: Path, progress: Progress = no_progress) -> None:
        target = self._path(key)
        self._prepare(target)
        size = path.stat().st_size
        try:
            os.replace(path, target)  # same file system: a rename, no copy
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise StoreError(os_error_message(exc, target)) from None
            part = target.with_name(target.name + PART)
            try:
                shutil.copyfile(path, part)
                with part.open("rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(part, target)
            except OSError as exc2:
                part.unlink(missing_ok=True)
                raise StoreError(os_error_message(exc2, target)) from None
        progress(size)

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        self._prepare(target)
        write_atomic(target, data)

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise StoreError(f"object {key} is missing from {self.root}") from None
        except OSError as exc:
            raise StoreError(os_error_message(exc, self._path(key))) from None

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        if not self.root.is_dir():
            return
        for dirpath, _dirs, files in os.walk(self.root):
            for name in sorted(files):
                if name.endswith(PART):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield ObjectInfo(key=key, size=full.stat().st_size)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(os_error_message(exc, self._path(key))) from None

    def cleanup_incomplete(self) -> int:
        removed = 0
        if self.root.is_dir():
            for part in self.root.rglob("*" + PART):
                part.unlink(missing_ok=True)
                removed += 1
        return removed
