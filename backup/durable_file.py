"""Writing a restored database file: durable, and cheap on a small server's CPU.

A restore writes hundreds of megabytes once and does not read them back, so the page
cache only costs: on the bench machine, filling it took a third of a restore's CPU. Where
the file system allows it, whole aligned pieces go straight to the disk (``O_DIRECT``)
from the page-aligned buffers the decoder reuses. Anything else (an unaligned tail, a
file system without ``O_DIRECT`` such as tmpfs, a caller's unaligned buffer) is written
through the page cache, with writeback started every :data:`SYNC_EVERY` bytes so dirty
pages never pile up. :meth:`DurableFile.close` fsyncs: a restored file is only moved
into place once it is on disk.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

ALIGN = 4096
"""Offsets, lengths and buffer addresses of direct writes are multiples of this (it
covers 512-byte and 4 KiB sector disks)."""
SYNC_EVERY = 64 * 1024 * 1024


class DurableFile:
    """A new file (mode 0600: it holds the client base) written front to back."""

    def __init__(self, path: Path, direct: bool = True) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        self.direct = direct and hasattr(os, "O_DIRECT")
        fd = -1
        if self.direct:
            try:
                fd = os.open(path, flags | os.O_DIRECT, 0o600)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                self.direct = False
        self._fd = fd if fd >= 0 else os.open(path, flags, 0o600)
        self.offset = 0
        self._dirty = 0

    def write(self, data: memoryview | bytes) -> None:
        """Append all of ``data``."""
        view = memoryview(data)
        if self.direct and (len(view) % ALIGN or self.offset % ALIGN):
            self._stop_direct()
        if self.direct:
            try:
                self._pwrite_all(view)
                return
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # EINVAL: this buffer or FS can't go direct
                    raise
                self._stop_direct()
        self._pwrite_all(view)
        self._dirty += len(view)
        if self._dirty >= SYNC_EVERY and hasattr(os, "posix_fadvise"):  # not on macOS
            # DONTNEED on dirty pages starts their writeback without waiting for it.
            os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_DONTNEED)
            self._dirty = 0

    def _pwrite_all(self, view: memoryview) -> None:
        # pwrite at an explicit offset: a retry after a refused direct write is idempotent.
        done = 0
        while done < len(view):
            done += os.pwrite(self._fd, view[done:], self.offset + done)
        self.offset += len(view)

    def _stop_direct(self) -> None:
        flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        fcntl.fcntl(self._fd, fcntl.F_SETFL, flags & ~os.O_DIRECT)
        self.direct = False

    def close(self, sync: bool = True) -> None:
        """fsync (unless told not to, e.g. after an error) and close; idempotent."""
        if self._fd < 0:
            return
        fd, self._fd = self._fd, -1
        try:
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> DurableFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(sync=kind is None)
