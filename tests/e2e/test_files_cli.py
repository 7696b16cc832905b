"""Files the CLI leaves on disk: private whatever the umask, never clobbered, never a
replaced device; a read-only home and a malformed URL explained in one line."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.cli import run


def run_umask(home: Path, mask: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMGUARD_HOME": str(home), "COLUMNS": "200"}
    env.pop("CRMGUARD_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "crmguard.cli.app", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
        preexec_fn=lambda: os.umask(mask),
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o000])
def test_private_files_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    home = tmp_path / "home"
    out = run_umask(home, mask, "init")
    assert out.returncode == 0, out.stderr
    out = run_umask(home, mask, "backup", "run", "--json")
    assert out.returncode == 0, out.stderr
    export = tmp_path / "ledger.jsonl"
    out = run_umask(home, mask, "audit", "export", "--out", str(export))
    assert out.returncode == 0, out.stderr

    assert mode(home) == 0o700
    assert mode(home / "keys") == 0o700
    for key in (home / "keys").iterdir():
        assert mode(key) == 0o600, key
    for name in ("crmguard.db", "crmguard.db-wal", "crmguard.db-shm", "crmguard.toml"):
        if (home / name).exists():
            assert mode(home / name) == 0o600, name
    assert mode(home / "backup-schedule.json") == 0o600
    spool = home / "backups" / ".spool"
    assert mode(spool) == 0o700
    for f in spool.iterdir():
        assert mode(f) == 0o600, f
    stored = list((home / "backups" / "backups").iterdir())
    assert stored and all(mode(f) == 0o600 for f in stored)
    assert mode(export) == 0o600


def owner_of(users: dict[str, dict[str, object]], role: str) -> str:
    return next(name for name, u in users.items() if role in u["roles"])  # type: ignore[operator]


def test_contacts_export_out_never_clobbers(
    demo_home: Path, demo_users: dict[str, dict[str, object]], tmp_path: Path
) -> None:
    who = owner_of(demo_users, "owner")
    target = tmp_path / "contacts.csv"
    target.write_text("yesterday's export")
    out = run(demo_home, "contacts", "export", "--as", who, "--out", str(target))
    assert out.returncode == 2 and "already exists; pass --force" in out.stderr
    assert target.read_text() == "yesterday's export"
    assert "Traceback" not in out.stderr

    out = run(demo_home, "contacts", "export", "--as", who, "--out", str(target), "--force")
    assert out.returncode == 0, out.stderr
    assert target.read_text().startswith("id,") and mode(target) == 0o600

    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    out = run(demo_home, "contacts", "export", "--as", who, "--out", str(link), "--force")
    assert out.returncode == 2 and "symbolic link" in out.stderr
    assert link.is_symlink() and not (tmp_path / "elsewhere.csv").exists()


@pytest.mark.parametrize("command", ["contacts", "audit"])
def test_out_to_a_device_never_replaces_it(
    demo_home: Path, demo_users: dict[str, dict[str, object]], command: str
) -> None:
    who = owner_of(demo_users, "owner")
    args = ["contacts", "export", "--as", who] if command == "contacts" else ["audit", "export"]
    out = run(demo_home, *args, "--out", "/dev/full")
    assert out.returncode == 2 and "already exists" in out.stderr
    out = run(demo_home, *args, "--out", "/dev/full", "--force")
    assert out.returncode == 2 and "no space" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


def test_audit_export_out_refuses_an_existing_file(demo_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "ledger.jsonl"
    target.write_text("keep")
    out = run(demo_home, "audit", "export", "--out", str(target))
    assert out.returncode == 2 and "--force" in out.stderr and target.read_text() == "keep"
    out = run(demo_home, "audit", "export", "--out", str(target), "--force")
    assert out.returncode == 0, out.stderr
    first = json.loads(target.read_text().splitlines()[0])
    assert first["seq"] == 1


def test_a_malformed_database_url_never_shows_its_password(tmp_path: Path) -> None:
    for url in ("postgresql:/u:S3cr3tPw@/", "postgresql://u:S3cr3tPw@/x?port=notanumber"):
        out = run(tmp_path, "users", "list", env={"CRMGUARD_DATABASE_URL": url})
        assert out.returncode == 2
        assert "S3cr3tPw" not in out.stderr + out.stdout and "Traceback" not in out.stderr


def _read_only(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with the home on a read-only bind mount (root) or chmod-ed (others)."""
    if os.geteuid() != 0:
        for p in [home, *home.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
        try:
            return run(home, *args)
        finally:
            for p in [home, *home.rglob("*")]:
                p.chmod(p.stat().st_mode | 0o200)
    if not shutil.which("unshare"):
        pytest.skip("unshare is not available to mount the home read-only")
    script = (
        f'mount --bind -o ro "{home}" "{home}" && exec "{sys.executable}" -m crmguard.cli.app '
        + " ".join(f'"{a}"' for a in args)
    )
    env = {**os.environ, "CRMGUARD_HOME": str(home)}
    env.pop("CRMGUARD_DATABASE_URL", None)
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("cannot make a mount namespace here")
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_read_only_home_says_what_is_wrong(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "init").returncode == 0
    out = _read_only(home, "audit", "verify")
    assert out.returncode == 2
    assert "read-only" in out.stderr and "cannot reach" not in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
