"""The root command: --version, --home before or after the sub-command, help without emoji."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from rich._emoji_codes import EMOJI
from typer.testing import CliRunner

import crmguard
from crmguard.cli.app import app, hoist_root_options
from tests.e2e.cli import run

#: Emoji Rich would substitute for a ``:name:`` code; none may appear in our help.
_EMOJI_CHARS = frozenset(c for e in EMOJI.values() for c in e if ord(c) > 0x2000)


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in (getattr(cmd, "commands", None) or {}).items():
        yield from _commands(sub, (*path, name))


def test_version() -> None:
    result = run(Path("/nonexistent"), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"crmguard {crmguard.__version__}"


def test_home_works_before_and_after_the_subcommand(demo_home: Path, tmp_path: Path) -> None:
    elsewhere = {"CRMGUARD_HOME": str(tmp_path / "no-home-here")}
    before = run(tmp_path, "--home", str(demo_home), "users", "list", "--json", env=elsewhere)
    after = run(tmp_path, "users", "list", "--json", "--home", str(demo_home), env=elsewhere)
    equals = run(tmp_path, "users", "list", f"--home={demo_home}", "--json", env=elsewhere)
    assert before.returncode == after.returncode == equals.returncode == 0, after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout) == json.loads(equals.stdout)
    # The later --home wins, as for any option given twice.
    both = run(tmp_path, "--home", str(tmp_path / "x"), "users", "list", "--home", str(demo_home))
    assert both.returncode == 0, both.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["users", "list"], ["users", "list"]),
        (["users", "list", "--home", "H"], ["--home", "H", "users", "list"]),
        (["--home", "A", "users", "--home=B"], ["--home", "A", "--home=B", "users"]),
        (["--log-level", "info", "x", "--home", "H"], ["--log-level", "info", "--home", "H", "x"]),
        (["contacts", "search", "--", "--home", "H"], ["contacts", "search", "--", "--home", "H"]),
        (["users", "list", "--home"], ["users", "list", "--home"]),
        (["users", "list", "--verbose"], ["--verbose", "users", "list"]),
        (["--home", "H", "x", "--verbose", "y"], ["--home", "H", "--verbose", "x", "y"]),
        (["--verbose", "x", "--home", "H"], ["--verbose", "--home", "H", "x"]),
    ],
)
def test_hoist_root_options(args: list[str], expected: list[str]) -> None:
    assert hoist_root_options(args) == expected


def test_no_help_text_turns_into_emoji(tmp_path: Path) -> None:
    """Every command's help, rendered as users see it: ``RESOURCE:ID`` stays text."""
    runner = CliRunner()
    root = typer.main.get_command(app)
    seen = 0
    for path in _commands(root):
        result = runner.invoke(
            app, [*path, "--help"], env={"CRMGUARD_HOME": str(tmp_path), "COLUMNS": "200"}
        )
        assert result.exit_code == 0, (path, result.output)
        bad = sorted({c for c in result.output if c in _EMOJI_CHARS})
        assert not bad, (path, bad)
        seen += 1
    assert seen > 20
    audit_log = runner.invoke(app, ["audit", "log", "--help"], env={"COLUMNS": "200"})
    assert "RESOURCE:ID" in audit_log.output
