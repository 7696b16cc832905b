"""Every command of the README's everyday block runs as written, in order, with a shell.

The block's own lines create the home (``export CRMGUARD_HOME=~/crmguard`` with ``HOME``
set to a scratch directory, then ``crmguard init --demo ...``); the only concession to
speed is ``CRMGUARD_DEMO_CONTACTS``, which makes that demo smaller without touching the
command line. A line added to the block is run too; a line that is not a ``crmguard``
command or an ``export`` fails the test rather than being skipped.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Everyday commands"
#: Sub-commands that run until stopped: started, given a moment, and stopped if still up.
LONG_RUNNING = frozenset({"serve", "daemon"})


def everyday_lines(text: str) -> list[str]:
    """The command lines of the ``sh`` blocks in the README's everyday section."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    lines: list[str] = []
    for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", section, re.S):
        lines += [line.strip() for line in block.splitlines() if line.strip()]
    return lines


def expected_codes(line: str) -> set[int]:
    """0, or the exit codes the line's own comment names (``# exit 0 allowed, 1 denied``)."""
    comment = line.partition(" #")[2]
    if "exit" not in comment:
        return {0}
    return {int(n) for n in re.findall(r"\b(\d)\b", comment)} or {0}


def long_running(line: str) -> bool:
    """Whether ``line`` starts a service that runs until stopped (``daemon --once`` does not)."""
    words = shlex.split(line, comments=True)
    return len(words) > 1 and words[1] in LONG_RUNNING and "--once" not in words


def _run_service(script: str, cwd: Path, env: dict[str, str]) -> tuple[int | None, str]:
    """Start a long-running line; None if it is still up after a few seconds (then stopped)."""
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        code: int | None = proc.wait(timeout=8)
    except subprocess.TimeoutExpired:
        code = None
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return code, proc.stderr.read() if proc.stderr else ""


def test_the_everyday_block_is_all_commands() -> None:
    lines = everyday_lines(README.read_text(encoding="utf-8"))
    assert any(line.startswith("crmguard init --demo") for line in lines)
    for line in lines:
        first = shlex.split(line, comments=True)[0]
        assert first in ("crmguard", "export"), f"not a crmguard command: {line}"


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """HOME in a scratch directory and ``crmguard`` on PATH running this tree."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "crmguard"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m crmguard "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMGUARD_")}
    env.update(
        HOME=str(tmp_path / "user"),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(README.parent),
        CRMGUARD_DEMO_CONTACTS="300",
        COLUMNS="200",
    )
    (tmp_path / "user").mkdir()
    return env


def test_every_everyday_command_runs_as_written(shell_env: dict[str, str], tmp_path: Path) -> None:
    lines = everyday_lines(README.read_text(encoding="utf-8"))
    exports: list[str] = []
    work = tmp_path / "user"
    for line in lines:
        if line.startswith("export "):
            exports.append(line)
            continue
        script = "\n".join([*exports, line])
        if long_running(line):
            code, stderr = _run_service(script, work, shell_env)
            assert "Traceback" not in stderr, (line, stderr)
            assert code is None or code in expected_codes(line), (line, code, stderr)
            continue
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=work,
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert "Traceback" not in result.stderr, (line, result.stderr)
        assert result.returncode in expected_codes(line), (line, result.returncode, result.stderr)
    # The README's home is where it said it would be, and the files its commands wrote.
    assert (work / "crmguard" / "crmguard.toml").exists()
    for line in lines:
        out = re.search(r"--out (\S+)", line)
        if out:
            assert (work / out.group(1)).stat().st_size > 0, line
