"""The ``crmguard alerts`` commands through the real command in a subprocess, on a home
made by ``init --demo`` (the product's defaults: a file channel in the home)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts import outbox, store
from alerts.model import Finding
from audit import Ledger, load_key_file
from crmguard.alerting import channels, outbox_for
from crmguard.db import make_engine
from crmguard.settings import Settings
from tests.alerts.delivery_helpers import free_port
from tests.e2e.cli import run


def _first(users: dict[str, dict[str, object]], role: str) -> str:
    return next(name for name, u in users.items() if role in u["roles"] and u["active"])  # type: ignore[operator]


@pytest.fixture
def home(demo_home: Path, tmp_path: Path) -> Path:
    """A private copy of the shared demo home (these tests write to it)."""
    copy = tmp_path / "home"
    shutil.copytree(demo_home, copy)
    return copy


def _raise_alert(home: Path, user: str, severity: str = "high") -> int:
    """An alert stored and queued as the live loop would (detection is not under test)."""
    settings = Settings.load(home, env={})
    engine = make_engine(settings.database_url)
    ledger = Ledger(engine, load_key_file(settings.mac_key_file))
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            stored = store.record_finding(
                conn,
                ledger,
                Finding(
                    ts=now, user=user, rule="bulk_export", severity=severity,  # type: ignore[arg-type]
                    score=4.2, summary=f"{user} exported 4,812 contacts in 6 minutes",
                    evidence={"count": 4812, "seq_range": [1, 2]}, first_ts=now, last_ts=now,
                ),
                now,
            )  # fmt: skip
            outbox.enqueue(conn, stored.alert, "raised", {"file": "low"}, now)
        return stored.alert.id
    finally:
        engine.dispose()


def test_the_inbox_lifecycle(home: Path, demo_users: dict[str, dict[str, object]]) -> None:
    sec = _first(demo_users, "security")
    rep = _first(demo_users, "sales_rep")
    empty = run(home, "alerts", "list", "--as", sec, "--json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == []

    alert_id = _raise_alert(home, rep)
    listed = run(home, "alerts", "list", "--as", sec)
    assert listed.returncode == 0 and f"#{alert_id} high open {rep} bulk_export" in listed.stdout
    shown = run(home, "alerts", "show", str(alert_id), "--as", sec, "--json")
    data = json.loads(shown.stdout)
    assert (data["user"], data["evidence"]["count"], data["status"]) == (rep, 4812, "open")

    assert run(home, "alerts", "ack", str(alert_id), "--as", sec).returncode == 0
    done = run(home, "alerts", "resolve", str(alert_id), "--as", sec, "--note", "talked")
    assert done.returncode == 0 and f"alert #{alert_id} is resolved (by {sec})" in done.stdout
    again = run(home, "alerts", "false-positive", str(alert_id), "--as", sec)
    assert again.returncode == 2
    assert again.stderr.strip() == (
        f"error: alert #{alert_id} is resolved by {sec}; it cannot become false_positive"
    )
    resolved = run(home, "alerts", "list", "--status", "resolved", "--as", sec, "--json")
    assert [a["id"] for a in json.loads(resolved.stdout)] == [alert_id]
    log = run(home, "audit", "log", "--as", sec, "--json", "--action", "alert.resolve")
    assert log.returncode == 0, log.stderr
    [event] = [json.loads(line) for line in log.stdout.splitlines()]
    assert (event["actor"], event["record_ids"], event["details"]["note"]) == (
        sec,
        [alert_id],
        "talked",
    )


def test_refusals_and_bad_input_are_one_line(
    home: Path, demo_users: dict[str, dict[str, object]]
) -> None:
    sec = _first(demo_users, "security")
    rep = _first(demo_users, "sales_rep")
    denied = run(home, "alerts", "list", "--as", rep)
    assert denied.returncode == 1
    assert denied.stderr.count("\n") == 1 and "denied" in denied.stderr
    missing = run(home, "alerts", "show", "999", "--as", sec)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: no alert #999 (see: crmguard alerts list)"
    nobody = run(home, "alerts", "list", "--as", "nobody.here")
    assert nobody.returncode == 2 and "unknown user 'nobody.here'" in nobody.stderr
    typo = run(home, "alerts", "list", "--as", sec, "--status", "opne")
    assert typo.returncode == 2 and "unknown status 'opne'" in typo.stderr
    for result in (denied, missing, nobody, typo):
        assert "Traceback" not in result.stderr


def test_default_file_channel_and_test_channel(
    home: Path, demo_users: dict[str, dict[str, object]]
) -> None:
    sec = _first(demo_users, "security")
    status = run(home, "alerts", "status", "--as", sec, "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["healthy"] and [c["channel"] for c in report["channels"]] == ["file"]
    sent = run(home, "alerts", "test-channel", "file", "--as", sec)
    assert sent.returncode == 0, sent.stderr
    path = home / "alerts.jsonl"
    assert json.loads(path.read_text())["kind"] == "test"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    unknown = run(home, "alerts", "test-channel", "pager", "--as", sec)
    assert unknown.returncode == 2 and "no channel 'pager'" in unknown.stderr


def _append_settings(home: Path, text: str) -> None:
    with (home / "crmguard.toml").open("a") as fh:
        fh.write(text)


def test_malformed_channel_settings(home: Path, demo_users: dict[str, dict[str, object]]) -> None:
    sec = _first(demo_users, "security")
    _append_settings(home, '\n[alerts.channels.mail]\ntype = "smtp"\nhost = "mail.example"\n')
    status = run(home, "alerts", "status", "--as", sec)
    assert status.returncode == 1
    assert "[alerts.channels.mail] to: must be an e-mail address" in status.stdout
    test = run(home, "alerts", "test-channel", "mail", "--as", sec)
    assert test.returncode == 2 and "Traceback" not in test.stderr
    assert test.stderr.strip().startswith("error: [alerts.channels.mail] to:")
    # Other commands are unaffected by a broken channel.
    assert run(home, "alerts", "list", "--as", sec).returncode == 0


def test_malformed_alert_settings_stop_every_command(home: Path) -> None:
    _append_settings(home, "\n")
    text = (
        (home / "crmguard.toml")
        .read_text()
        .replace("[alerts]\n", '[alerts]\npoll_interval = "fast"\n', 1)
    )
    (home / "crmguard.toml").write_text(text)
    result = run(home, "alerts", "list", "--as", "x")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: [alerts] poll_interval must be a number of seconds, not 'fast'"
    )


def test_an_unreachable_channel_is_retried_and_reported(
    home: Path, demo_users: dict[str, dict[str, object]]
) -> None:
    sec = _first(demo_users, "security")
    port = free_port()
    _append_settings(
        home, f'\n[alerts.channels.hook]\ntype = "webhook"\nurl = "http://127.0.0.1:{port}/x"\n'
    )
    alert_id = _raise_alert(home, _first(demo_users, "sales_rep"))
    settings = Settings.load(home, env={})
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            outbox.enqueue(conn, store.get_alert(conn, alert_id), "raised", {"hook": "low"},
                           datetime.now(UTC))  # fmt: skip
        outbox_for(settings, engine, channels(settings)).deliver_due()
    finally:
        engine.dispose()
    status = run(home, "alerts", "status", "--as", sec)
    assert status.returncode == 1
    assert "hook: failing webhook http://127.0.0.1" in status.stdout
    assert "1 pending" in status.stdout and "unreachable" in status.stdout
    assert "file: ok" in status.stdout


def test_the_daemon_delivers_the_outbox(
    home: Path, demo_users: dict[str, dict[str, object]]
) -> None:
    alert_id = _raise_alert(home, _first(demo_users, "sales_rep"))
    env = {**os.environ, "CRMGUARD_HOME": str(home)}
    env.pop("CRMGUARD_DATABASE_URL", None)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "crmguard.cli.app", "daemon"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    path = home / "alerts.jsonl"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not path.exists():
            time.sleep(0.1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=60)
    assert path.exists(), err
    [line] = path.read_text().splitlines()
    assert json.loads(line)["alert_id"] == alert_id
    assert daemon.returncode == 0, err
