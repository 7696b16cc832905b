"""crmguard/cli/alerts_replay.py: `crmguard alerts replay` as a user runs it (a real
process, no home), including its errors: one line, exit 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_alerts_replay import stream, write

ROOT = Path(__file__).resolve().parents[2]


def crmguard(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMGUARD_HOME": str(home / "no-such-home"), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "crmguard", "alerts", "replay", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_replay_prints_contract_lines_and_needs_no_home(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", stream())
    done = crmguard(str(path), home=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert [(x["user"], x["rule"]) for x in lines] == [
        ("anna", "baseline_hour"), ("bob", "probing"), ("system", "backup_failed"),
    ]  # fmt: skip
    assert "42 events, 3 alerts" in done.stderr
    assert not (tmp_path / "no-such-home").exists()
    again = crmguard(str(path), "--json", home=tmp_path)
    assert again.stdout == done.stdout  # same input, same output
    assert json.loads(again.stderr.splitlines()[-1]) == {"events": 42, "findings": 3, "skipped": 0}


def test_replay_with_rules_file(tmp_path: Path) -> None:
    rules = tmp_path / "alerts.toml"
    off = "".join(f"[rules.{r}]\nenabled = false\n" for r in
                  ("burst", "baseline_hour", "baseline_day", "volume"))  # fmt: skip
    rules.write_text(off + "[rules.probing]\ndenied = 20\n")
    done = crmguard(str(write(tmp_path / "e.jsonl", stream())), "--rules", str(rules),
                    home=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [json.loads(x)["rule"] for x in done.stdout.splitlines()] == ["backup_failed"]


def test_bad_lines_are_reported_and_skipped_or_fatal_with_strict(tmp_path: Path) -> None:
    items: list = stream()
    items.insert(2, "garbage")
    path = write(tmp_path / "e.jsonl", items)
    done = crmguard(str(path), home=tmp_path)
    assert done.returncode == 0
    assert "line 3: not valid JSON (skipped)" in done.stderr
    assert "1 malformed lines skipped" in done.stderr
    assert len(done.stdout.splitlines()) == 3
    strict = crmguard(str(path), "--strict", home=tmp_path)
    assert strict.returncode == 2
    assert strict.stdout == ""
    assert "line 3: not valid JSON" in strict.stderr and "Traceback" not in strict.stderr


def test_what_cannot_run_exits_2_with_one_line(tmp_path: Path) -> None:
    missing = crmguard(str(tmp_path / "none.jsonl"), home=tmp_path)
    assert missing.returncode == 2 and "file not found" in missing.stderr
    bad_rules = tmp_path / "alerts.toml"
    bad_rules.write_text('[rules.burst]\nseverity = "loud"\n')
    done = crmguard(str(write(tmp_path / "e.jsonl", stream())), "--rules", str(bad_rules),
                    home=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "alerts.toml line 2: severity must be one of" in done.stderr
    for out in (missing, done):
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
