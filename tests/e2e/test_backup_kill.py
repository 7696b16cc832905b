"""A backup killed mid-way must not leave the client base in clear in the spool: SIGTERM
unwinds and removes the snapshot; SIGKILL cannot be caught, so the next run (or the
daemon at start) sweeps what the dead process left."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from crmguard.daemon import serve
from crmguard.settings import Settings
from tests.e2e.cli import run

FILLER_MB = 32


@pytest.fixture
def big_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert run(home, "init").returncode == 0
    conn = sqlite3.connect(home / "crmguard.db")
    conn.execute("CREATE TABLE filler (b BLOB)")
    chunk = os.urandom(1024 * 1024)
    conn.executemany("INSERT INTO filler VALUES (?)", ((chunk,) for _ in range(FILLER_MB)))
    conn.commit()
    conn.close()
    return home


def snapshots(home: Path) -> list[Path]:
    spool = home / "backups" / ".spool"
    return sorted(spool.glob(".snap-*/snapshot.db")) if spool.is_dir() else []


def start_backup(home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CRMGUARD_HOME": str(home)}
    env.pop("CRMGUARD_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "crmguard.cli.app", "backup", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def catch_in_the_act(home: Path, proc: subprocess.Popen[bytes]) -> None:
    """Freeze the backup the moment its plaintext snapshot exists."""
    deadline = time.monotonic() + 60
    while not snapshots(home):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the backup finished before its snapshot could be caught")
        time.sleep(0.001)
    os.kill(proc.pid, signal.SIGSTOP)


def test_sigkill_leaves_a_snapshot_that_the_next_run_sweeps(big_home: Path) -> None:
    proc = start_backup(big_home)
    catch_in_the_act(big_home, proc)
    proc.kill()
    proc.wait()
    assert snapshots(big_home), "the killed run's snapshot should still be there"

    out = run(big_home, "backup", "run")
    assert out.returncode == 0, out.stderr
    assert snapshots(big_home) == []
    assert list((big_home / "backups" / ".spool").glob(".snap-*")) == []


def test_sigterm_removes_the_snapshot_on_the_way_out(big_home: Path) -> None:
    proc = start_backup(big_home)
    catch_in_the_act(big_home, proc)
    os.kill(proc.pid, signal.SIGTERM)
    os.kill(proc.pid, signal.SIGCONT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert b"Traceback" not in err
    assert list((big_home / "backups" / ".spool").glob(".snap-*")) == []


def test_the_daemon_sweeps_at_start(big_home: Path) -> None:
    proc = start_backup(big_home)
    catch_in_the_act(big_home, proc)
    proc.kill()
    proc.wait()
    assert snapshots(big_home)
    stop = threading.Event()
    stop.set()  # start, sweep, and stop at once
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        serve(Settings.load(big_home, env={}), stop=stop)
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
    assert list((big_home / "backups" / ".spool").glob(".snap-*")) == []
