"""Benchmark: how long ``crmguard --help`` (and ``--version``, and each sub-group's
``--help``) takes to start, against a minimal Typer application's ``--help``.

Scripts and cron jobs call the CLI often; a command must not pay at start for rooms it
does not use (boto3, Alembic, watchdog, Casbin, SQLAlchemy). Both sides are fresh Python
processes started the same way, measured in alternating rounds in the same run so both
pay the machine's load alike; the figure is the ratio of medians (target: <= 1.5).

    python bench/bench_cli_start.py              # --rounds 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The baseline: the least a Typer application with a sub-command can do for ``--help``.
MINIMAL_APP = '''
import typer

app = typer.Typer(help="A minimal application.", no_args_is_help=True, add_completion=False)


@app.callback()
def root() -> None:
    """Root."""


@app.command()
def hello(name: str = typer.Option("world", "--name")) -> None:
    """Say hello."""
    typer.echo(f"hello {name}")


if __name__ == "__main__":
    app()
'''

#: What is measured, as argument lists of ``python -m crmguard.cli.app``.
CASES: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("--version",),
    ("users", "--help"),
    ("access", "--help"),
    ("contacts", "--help"),
    ("audit", "--help"),
    ("backup", "--help"),
    ("keys", "--help"),
    ("alerts", "--help"),
)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds for one run of ``cmd`` (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_APP)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CRMGUARD_HOME": str(Path(tmp) / "no-home"),
            "COLUMNS": "100",
        }
        baseline_cmd = [sys.executable, str(minimal), "--help"]
        commands = {case: [sys.executable, "-m", "crmguard.cli.app", *case] for case in CASES}
        for cmd in [baseline_cmd, *commands.values()]:  # warm the page cache and .pyc files
            timed(cmd, env)
        base: list[float] = []
        runs: dict[tuple[str, ...], list[float]] = {case: [] for case in CASES}
        for _ in range(opts.rounds):
            for case, cmd in commands.items():
                base.append(timed(baseline_cmd, env))
                runs[case].append(timed(cmd, env))
    baseline = statistics.median(base)
    print(f"minimal Typer app --help: {baseline * 1000:.0f} ms (median of {len(base)})")
    worst = 0.0
    for case, times in runs.items():
        median = statistics.median(times)
        ratio = median / baseline
        worst = max(worst, ratio)
        print(f"crmguard {' '.join(case):18} {median * 1000:6.0f} ms   ratio {ratio:.2f}")
    print(f"worst ratio {worst:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
