"""Files a command writes on request (``--out``): one function, the same rules everywhere.

An export holds client data or the ledger, so the file is created 0600 whatever the
umask, written to a private temporary file next to the target and moved into place only
when complete: a failed export leaves no half file under the real name.

The target is never clobbered by surprise: an existing file is refused unless the caller
passes ``force``; a symbolic link is always refused (it may point anywhere, e.g. at a
file in another user's reach), unless it leads to a character device or FIFO; a
directory or block device is refused; a character device or FIFO (``/dev/null``,
``/dev/stdout``, a pipe to another program) is written *through*, with ``force``, and
never replaced by a regular file. Without ``force`` the final step is a
hard link, which fails if a file appeared under the name meanwhile, so even a race never
overwrites.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from crmguard.errors import OutputFileError


def _describe(mode: int) -> str | None:
    """What kind of non-regular file ``mode`` is, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_target(path: Path, force: bool) -> str:
    """How ``path`` will be written: ``"new"``, ``"replace"`` or ``"through"``.

    Raises :class:`OutputFileError` when the target must not be written at all; called
    before any work starts, so a refused ``--out`` costs nothing and records nothing.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise OutputFileError(
                f"cannot write {path}: folder {path.parent} does not exist"
            ) from None
        return "new"
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {exc.strerror}") from None
    kind = _describe(st.st_mode)
    if kind == "a symbolic link" and _leads_to_a_stream(path):
        kind = "a stream"
    if kind in ("a symbolic link", "a directory", "a block device", "a socket"):
        raise OutputFileError(
            f"{path} is {kind}; refusing to write an export there (give a new file name)"
        )
    if not force:
        raise OutputFileError(f"{path} already exists; pass --force to replace it")
    return "replace" if kind is None else "through"


@contextmanager
def output_file(path: Path, *, force: bool = False, newline: str | None = None) -> Iterator[TextIO]:
    """A text stream that ends up in ``path`` (0600) only if the block completes."""
    how = check_target(path, force)
    if how == "through":
        yield from _through(path, newline)
        return
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, path, replace=how == "replace")
    except OSError as exc:
        raise OutputFileError(_os_message(exc, path)) from None
    finally:
        tmp.unlink(missing_ok=True)


def _leads_to_a_stream(path: Path) -> bool:
    """True when a symbolic link resolves to a character device or FIFO (/dev/stdout)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _through(path: Path, newline: str | None) -> Iterator[TextIO]:
    """Write into an existing character device or FIFO without replacing it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise OutputFileError(_os_message(exc, path)) from None
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):  # swapped since it was checked
        os.close(fd)
        raise OutputFileError(f"{path} changed while opening it; nothing was written")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
    except OSError as exc:
        raise OutputFileError(_os_message(exc, path)) from None


def _publish(tmp: Path, path: Path, replace: bool) -> None:
    if replace:
        # The target was a regular file when checked; a link or device that appeared
        # since must not be replaced either.
        if os.path.lexists(path) and check_target(path, force=True) != "replace":
            raise OutputFileError(f"{path} changed while writing; nothing was replaced")
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise OutputFileError(
            f"{path} appeared while writing; pass --force to replace it"
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if os.path.lexists(path):  # a file system without hard links
            raise OutputFileError(f"{path} already exists; pass --force to replace it") from None
        os.replace(tmp, path)


def _os_message(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"no space left to write {path}; free space and run again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {path}: {exc.strerror} (check the folder's permissions)"
    if exc.errno == errno.ELOOP:
        return f"{path} is a symbolic link; refusing to write an export there"
    return f"cannot write {path}: {exc.strerror or exc}"
