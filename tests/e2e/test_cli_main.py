"""``crmguard``'s ``main()``: every error is caught once, printed as one line, and exits
with the error's own code; ``--verbose`` brings the traceback back; Ctrl-C exits 130.

The commands that fail here are real Typer commands added to the real application in a
child process (a bug cannot be produced on demand from a shipped command), run through
the real ``main()``; the broken-home cases use shipped commands.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmguard.cli.common import describe
from tests.e2e.cli import run

#: A child process: the real app with a few commands that fail in known ways.
_FAILING = """
import sys
from crmguard.cli.app import app, main

@app.command("boom")
def boom() -> None:
    raise KeyError("contact_id")

@app.command("interrupt")
def interrupt() -> None:
    raise KeyboardInterrupt

@app.command("corrupt")
def corrupt() -> None:
    from backup import BackupCorrupt
    raise BackupCorrupt("backup b1 failed its chunk hashes")

@app.command("missing")
def missing() -> None:
    from crm_models.errors import RecordNotFound
    raise RecordNotFound("contact", 7)

main()
"""


def _failing(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMGUARD_HOME": str(tmp_path), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", _FAILING, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_an_unexpected_error_is_named_by_class(tmp_path: Path) -> None:
    result = _failing(tmp_path, "boom")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "error: unexpected error (KeyError: 'contact_id'); run again with --verbose"
    )


@pytest.mark.parametrize("args", [("--verbose", "boom"), ("boom", "--verbose")])
def test_verbose_brings_the_traceback_back(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _failing(tmp_path, *args)
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "in boom" in result.stderr and "KeyError: 'contact_id'" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: unexpected error (KeyError")


def test_a_project_error_exits_with_its_own_code(tmp_path: Path) -> None:
    corrupt = _failing(tmp_path, "corrupt")
    assert corrupt.returncode == 1  # BackupCorrupt: "the backup is bad", not "could not run"
    assert corrupt.stderr.strip() == "error: backup b1 failed its chunk hashes"
    missing = _failing(tmp_path, "missing")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: contact 7 not found"


def test_ctrl_c_exits_130_with_one_line(tmp_path: Path) -> None:
    result = _failing(tmp_path, "interrupt")
    assert result.returncode == 130
    assert result.stderr.strip() == "error: interrupted"


def test_a_broken_home_is_one_line_and_verbose_shows_where(tmp_path: Path) -> None:
    quiet = run(tmp_path / "nowhere", "users", "list")
    assert quiet.returncode == 2
    assert "Traceback" not in quiet.stderr
    assert len(quiet.stderr.strip().splitlines()) == 1
    assert "no crmguard home" in quiet.stderr
    loud = run(tmp_path / "nowhere", "users", "list", "--verbose")
    assert loud.returncode == 2
    assert "Traceback" in loud.stderr and "HomeMissing" in loud.stderr
    assert loud.stderr.strip().splitlines()[-1] == quiet.stderr.strip()


def test_a_bad_settings_file_is_reported_by_the_command_not_by_help(tmp_path: Path) -> None:
    """Settings are read when a command needs them: a broken file does not break --help."""
    (tmp_path / "crmguard.toml").write_text("this is = = not toml\n")
    helped = run(tmp_path, "users", "--help")
    assert helped.returncode == 0, helped.stderr
    listed = run(tmp_path, "users", "list")
    assert listed.returncode == 2
    assert "Traceback" not in listed.stderr
    assert len(listed.stderr.strip().splitlines()) == 1


def test_an_os_error_keeps_its_own_words() -> None:
    error = PermissionError(13, "Permission denied", "/srv/crm/out.csv")
    assert describe(error) == "[Errno 13] Permission denied: '/srv/crm/out.csv'"
