"""Restored files: the bytes land whatever the alignment, the file system or the disk."""

from __future__ import annotations

import errno
import mmap
import os
import stat
from pathlib import Path

import pytest

from backup.durable_file import ALIGN, DurableFile


def aligned(data: bytes) -> memoryview:
    buf = mmap.mmap(-1, len(data))
    buf[:] = data
    return memoryview(buf)


def test_aligned_pieces_then_a_tail(tmp_path: Path) -> None:
    pieces = [os.urandom(4 * ALIGN), os.urandom(2 * ALIGN), os.urandom(100)]
    target = tmp_path / "restored.db"
    with DurableFile(target) as out:
        opened_direct = out.direct
        for p in pieces[:2]:
            out.write(aligned(p))
        assert out.direct == opened_direct  # aligned pieces never leave direct mode
        out.write(aligned(pieces[2]))
        assert not out.direct  # the tail cannot go direct; the file switched once
    assert target.read_bytes() == b"".join(pieces)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_unaligned_buffer_falls_back_and_loses_nothing(tmp_path: Path) -> None:
    raw = bytearray(os.urandom(3 * ALIGN + 1))
    odd = memoryview(raw)[1 : 1 + 2 * ALIGN]  # aligned length, unaligned address
    target = tmp_path / "restored.db"
    with DurableFile(target) as out:
        out.write(odd)
        out.write(aligned(b"z" * ALIGN))
    assert target.read_bytes() == bytes(odd) + b"z" * ALIGN


def test_buffered_mode_writes_the_same_bytes(tmp_path: Path) -> None:
    data = os.urandom(5 * ALIGN + 7)
    target = tmp_path / "restored.db"
    with DurableFile(target, direct=False) as out:
        out.write(data[:1000])
        out.write(data[1000:])
    assert target.read_bytes() == data


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no tmpfs at /dev/shm")
def test_tmpfs_works_with_or_without_direct_io() -> None:
    target = Path("/dev/shm") / f"crmguard-test-{os.getpid()}.db"
    try:
        with DurableFile(target) as out:
            out.write(aligned(b"a" * ALIGN))
            out.write(b"tail")
        assert target.read_bytes() == b"a" * ALIGN + b"tail"
    finally:
        target.unlink(missing_ok=True)


def test_full_disk_is_an_error_not_a_short_file() -> None:
    out = DurableFile(Path("/dev/full"))
    with pytest.raises(OSError) as caught:
        out.write(aligned(b"x" * ALIGN))
        out.write(b"tail")
        out.close()
    assert caught.value.errno == errno.ENOSPC
    out.close(sync=False)
