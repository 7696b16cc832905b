"""``crmguard alerts replay``: the offline detection contract, as a command.

A thin door onto :func:`alerts.replay.replay`: it needs no home (rules from ``--rules`` or
the shipped defaults), writes contract lines on stdout and everything else on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from crmguard.cli.common import err_console

_MAX_REPORTED = 10


def register(app: typer.Typer) -> None:
    """Add the ``replay`` command to the ``alerts`` group ``app``."""
    app.command("replay")(replay_cmd)


def replay_cmd(
    events: Path = typer.Argument(..., help="Events as written by `crmguard audit export`."),
    rules_file: Path | None = typer.Option(
        None, "--rules", help="Alert rules (default: the shipped policies/alerts.toml)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Also print the end-of-run counts as JSON on stderr."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Stop at the first malformed line (exit 2) instead of skipping."
    ),
) -> None:
    """Run leak detection over exported events; one JSON line per alert raised or escalated."""
    from alerts.replay import replay
    from alerts.rules import load_rules

    rules = load_rules(rules_file)
    reported = 0

    def on_bad(line: int, reason: str) -> None:
        nonlocal reported
        reported += 1
        if reported <= _MAX_REPORTED:
            err_console.print(f"warning: {events} line {line}: {reason} (skipped)", highlight=False)

    result = replay(events, rules, sys.stdout, strict=strict, on_bad=on_bad)
    summary = f"{result.events:,} events, {result.findings:,} alerts raised or escalated" + (
        f", {result.skipped:,} malformed lines skipped" if result.skipped else ""
    )
    if as_json:
        import json

        sys.stderr.write(
            json.dumps(
                {"events": result.events, "findings": result.findings, "skipped": result.skipped}
            )
            + "\n"
        )
    else:
        err_console.print(summary, highlight=False)
