"""The backup CLI contract, through the real ``crmguard`` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from crm_models import Base, Contact


def crm(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMGUARD_")}
    env.update(
        {"CRMGUARD_HOME": str(home), "CRMGUARD_DATABASE_URL": f"sqlite:///{home / 'crm.db'}"}
    )
    return subprocess.run(
        [sys.executable, "-m", "crmguard.cli.app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    engine = create_engine(f"sqlite:///{h / 'crm.db'}")
    Base.metadata.create_all(engine)
    with engine.begin() as c:
        c.execute(
            Contact.__table__.insert(),
            [
                {"first_name": f"A{i}", "last_name": "B", "email": f"a{i}@example.com"}
                for i in range(30)
            ],
        )
    engine.dispose()
    return h


def test_backup_cli_contract(home: Path, tmp_path: Path) -> None:
    out = crm(home, "backup", "run", "--json")
    assert out.returncode == 2 and "crmguard keys init" in out.stderr  # no key yet
    assert crm(home, "keys", "init").returncode == 0
    key = home / "keys" / "backup.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"

    out = crm(home, "backup", "run", "--json")
    assert out.returncode == 0, out.stderr
    made = json.loads(out.stdout)
    assert set(made) >= {"id", "bytes", "stored_bytes", "seconds"}
    bid = made["id"]

    listed = json.loads(crm(home, "backup", "list", "--json").stdout)
    assert [b["id"] for b in listed] == [bid]
    assert listed[0]["tables"]["contacts"] == 30

    out = crm(home, "backup", "verify", bid)
    assert out.returncode == 0, out.stderr

    target = tmp_path / "restored.db"
    out = crm(home, "backup", "restore", bid, "--to", str(target))
    assert out.returncode == 0, out.stderr
    engine = create_engine(f"sqlite:///{target}")
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Contact.__table__)).scalar() == 30
    engine.dispose()
    out = crm(home, "backup", "restore", bid, "--to", str(target))
    assert out.returncode == 2 and "--force" in out.stderr
    out = crm(home, "backup", "restore", bid, "--to", str(target), "--force", "--progress")
    assert out.returncode == 0, out.stderr
    assert f"restored {bid}" in out.stdout and "30 rows in" in out.stdout
    assert oct(target.stat().st_mode & 0o777) == "0o600"  # the client base is not world-readable

    status = json.loads(crm(home, "backup", "status", "--json").stdout)
    assert {j["job"] for j in status["jobs"]} == {"backup", "drill"}

    pruned = json.loads(crm(home, "backup", "prune", "--dry-run", "--json").stdout)
    assert pruned["dry_run"] and pruned["deleted"] == []

    data = home / "backups" / "backups" / f"{bid}.data"
    blob = bytearray(data.read_bytes())
    blob[-5] ^= 1
    data.write_bytes(bytes(blob))
    out = crm(home, "backup", "verify", "--all")
    assert out.returncode == 1 and "chunk" in out.stderr
    out = crm(home, "backup", "verify", "no-such-id")
    assert out.returncode == 2 and "no complete backup" in out.stderr


def test_a_binary_key_file_is_one_line_and_exit_2(home: Path) -> None:
    key = home / "keys" / "backup.key"
    key.parent.mkdir()
    key.write_bytes(b"\xff\xfe\x00binary key material\x80")
    key.chmod(0o600)
    out = crm(home, "backup", "run")
    assert out.returncode == 2
    assert str(key) in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_status_on_a_new_home_says_never_run_and_counts_manual_runs(tmp_path: Path) -> None:
    from tests.e2e.cli import run

    home = tmp_path / "fresh"
    assert run(home, "init").returncode == 0
    out = run(home, "backup", "status")
    assert out.returncode == 0, out.stderr
    assert "OVERDUE" not in out.stdout and out.stdout.count("never run") == 2
    assert run(home, "backup", "run").returncode == 0
    status = json.loads(run(home, "backup", "status", "--json").stdout)
    jobs = {j["job"]: j for j in status["jobs"]}
    assert jobs["backup"]["last_success"] and not jobs["backup"]["never_run"]
    assert not jobs["backup"]["overdue"] and jobs["drill"]["never_run"]
    log = run(home, "audit", "log", "--json")
    assert log.returncode == 0, log.stderr
    events = [json.loads(line) for line in log.stdout.splitlines() if line.strip()]
    runs = [e for e in events if e["action"] == "backup.run"]
    assert runs and runs[-1]["resource"] == "backup" and runs[-1]["outcome"] == "allowed"
    assert runs[-1]["actor"].startswith("operator:")
