"""Scratch folders for plaintext: private, removed on exit, swept only when their owner
is gone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from backup.scratch import BESIDE, scratch_dir, sweep


def test_scratch_is_private_and_removed_even_on_error(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        with pytest.raises(RuntimeError), scratch_dir(tmp_path / "spool", ".snap-") as d:
            (d / "snapshot.db").write_bytes(b"clients")
            assert stat.S_IMODE(d.stat().st_mode) == 0o700
            assert stat.S_IMODE((tmp_path / "spool").stat().st_mode) == 0o700
            raise RuntimeError("boom")
    finally:
        os.umask(old)
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_live_owners_folder_is_never_swept(tmp_path: Path) -> None:
    with scratch_dir(tmp_path, ".verify-") as d:
        assert sweep(tmp_path) == []
        assert d.exists()


def test_a_dead_owners_folder_is_swept(tmp_path: Path) -> None:
    # a real process makes a scratch folder and dies without cleaning up
    code = (
        "import os, sys; from pathlib import Path; from backup.scratch import scratch_dir\n"
        f"with scratch_dir(Path({str(tmp_path)!r}), '.snap-') as d:\n"
        "    (d / 'snapshot.db').write_bytes(b'clients'); os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False, env={**os.environ})
    left = list(tmp_path.glob(".snap-*/snapshot.db"))
    assert left
    assert sweep(tmp_path) == [left[0].parent.name]
    assert list(tmp_path.iterdir()) == []


def test_beside_a_target_only_restore_staging_is_swept(tmp_path: Path) -> None:
    mine = tmp_path / ".snap-of-the-user"  # someone else's folder that looks like ours
    mine.mkdir()
    stale = tmp_path / f"{BESIDE}dead"
    stale.mkdir()
    (stale / "crm.db").write_bytes(b"clients")
    os.utime(stale, (0, 0))  # no lock file and old: left by a killed restore
    assert sweep(tmp_path, (BESIDE,)) == [stale.name]
    assert mine.exists()
    tmp_path.chmod(0o755)
    with scratch_dir(tmp_path, BESIDE):
        assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # the target's folder as it was
