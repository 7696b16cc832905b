"""The CLI's start: ``--help`` and ``--version`` load Typer and the command modules only.

A contract, not a timing: the rooms' heavy libraries (boto3 through the backup stores,
Alembic through the schema, watchdog through the policy watcher, Casbin through the
policy compiler, FastAPI) are imported by the commands that use them, never at start.
The figure is measured by ``bench/bench_cli_start.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import crmguard

#: Not one of these may be imported by the CLI's start.
HEAVY = ("boto3", "alembic", "watchdog", "casbin", "fastapi", "sqlalchemy", "cryptography")

_PROBE = """
import json, sys
from crmguard.cli.app import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "loaded": sorted(m for m in HEAVY if m in sys.modules)}))
""".replace("HEAVY", repr(HEAVY))


def _probe(tmp_path: Path, *args: str, home: Path | None = None) -> tuple[int, list[str], str]:
    where = home if home is not None else tmp_path / "no-home"
    env = {**os.environ, "CRMGUARD_HOME": str(where), "COLUMNS": "120"}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    last = json.loads(result.stdout.strip().splitlines()[-1])
    return int(last["code"]), list(last["loaded"]), result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("users", "--help"),
        ("access", "--help"),
        ("contacts", "--help"),
        ("audit", "--help"),
        ("backup", "--help"),
        ("keys", "--help"),
        ("alerts", "--help"),
        ("contacts", "view", "--help"),
        ("backup", "run", "--help"),
    ],
)
def test_help_imports_no_room(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, loaded, out = _probe(tmp_path, *args)
    assert code == 0
    assert "Usage" in out  # the help was really printed
    assert loaded == []


def test_version_imports_no_room(tmp_path: Path) -> None:
    code, loaded, out = _probe(tmp_path, "--version")
    assert code == 0
    assert f"crmguard {crmguard.__version__}" in out
    assert loaded == []


def test_a_command_still_loads_what_it_uses(tmp_path: Path) -> None:
    """The probe can see an import: a command that opens the home brings SQLAlchemy."""
    code, loaded, _ = _probe(tmp_path, "users", "list")
    assert code == 2  # no home there
    assert "sqlalchemy" in loaded


@pytest.mark.parametrize("args", [("users", "list"), ("audit", "log", "--limit", "1")])
def test_commands_on_a_home_load_no_s3_no_alembic(
    tmp_path: Path, demo_home: Path, args: tuple[str, ...]
) -> None:
    """Opening a home checks the schema revision and builds the settings (backup settings
    included) without Alembic, boto3 or FastAPI: those load where they are used."""
    code, loaded, out = _probe(tmp_path, *args, home=demo_home)
    assert code == 0, out
    assert "sqlalchemy" in loaded
    assert not {"boto3", "alembic", "fastapi"} & set(loaded), loaded


def test_the_cli_bound_on_record_ids_is_the_service_one() -> None:
    """The CLI keeps its own copy so that declaring an argument imports no service."""
    from crmguard.cli.common import MAX_RECORD_ID
    from crmguard.service import MAX_RECORD_ID as SERVICE_MAX

    assert MAX_RECORD_ID == SERVICE_MAX


def test_replay_needs_no_database_library(tmp_path: Path) -> None:
    """``alerts replay`` reads a file with no home: it loads the detectors, not the live
    loop's SQLAlchemy (about a second of start-up, more than a small file's replay)."""
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"ts": "2026-11-02T09:00:00Z", "actor": "ann", "action": "view",'
        ' "resource": "contact", "count": 1, "outcome": "allowed", "record_ids": [1]}\n'
    )
    code, loaded, out = _probe(tmp_path, "alerts", "replay", str(events))
    assert code == 0, out
    assert loaded == []
