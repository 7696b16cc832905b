"""The operator's way in: passwords and tokens from the CLI, ``crmguard serve`` in a real
subprocess answering over HTTP, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.cli import run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("serve-home")
    result = run(home, "init", "--demo", "--days", "1", "--contacts", "300", "--seed", "5")
    assert result.returncode == 0, result.stderr
    return home


def _users(home: Path) -> dict[str, list[str]]:
    users = json.loads(run(home, "users", "list", "--json").stdout)
    return {u["username"]: u["roles"] for u in users if u["active"]}


def test_tokens_and_passwords_from_the_cli(home: Path) -> None:
    users = _users(home)
    rep = next(u for u, roles in users.items() if roles == ["sales_rep"])
    created = run(
        home, "tokens", "create", rep, "--name", "sync", "--expires-in-days", "30", "--json"
    )
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)
    assert set(token) == {"id", "token", "expires_at"}
    listed = json.loads(run(home, "tokens", "list", rep, "--json").stdout)
    assert [t["id"] for t in listed] == [token["id"]]
    assert token["token"] not in json.dumps(listed)
    assert token["token"] not in (home / "crmguard.db").read_bytes().decode("latin-1")
    revoked = run(home, "tokens", "revoke", str(token["id"]))
    assert revoked.returncode == 0
    again = run(home, "tokens", "revoke", str(token["id"]))
    assert again.returncode == 2 and "already revoked" in again.stderr
    env = {**os.environ, "CRMGUARD_HOME": str(home)}
    short = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmguard.cli.app",
            "users",
            "set-password",
            rep,
            "--password-stdin",
        ],
        input="short\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert short.returncode == 2 and "12" in short.stderr
    missing = run(home, "users", "set-password", "no.such.user", "--password-stdin")
    assert missing.returncode == 2


def test_serve_answers_and_stops_on_sigterm(home: Path) -> None:
    users = _users(home)
    rep = next(u for u, roles in users.items() if roles == ["sales_rep"])
    env = {**os.environ, "CRMGUARD_HOME": str(home)}
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmguard.cli.app",
            "users",
            "set-password",
            rep,
            "--password-stdin",
        ],
        input="a long enough passphrase\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    token = json.loads(run(home, "tokens", "create", rep, "--name", "t", "--json").stdout)["token"]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "crmguard.cli.app", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, server.stderr
            time.sleep(0.2)
        auth = {"Authorization": f"Bearer {token}"}
        me = httpx.get(f"{base}/api/auth/me", headers=auth)
        assert me.status_code == 200 and me.json()["username"] == rep
        signin = httpx.post(
            f"{base}/api/auth/signin",
            json={"username": rep, "password": "a long enough passphrase"},
        )
        assert signin.status_code == 200 and "crmguard_session" in signin.headers["set-cookie"]
        spec = httpx.get(f"{base}/openapi.json").json()
        assert "/api/contacts/export" in spec["paths"]
        metrics = httpx.get(f"{base}/metrics").text
        assert "crmguard_decisions_total" in metrics and rep not in metrics
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    assert code == 0, server.stderr.read() if server.stderr else ""
    out = run(home, "audit", "log", "--actor", rep, "--json").stdout
    log = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert any(e["action"] == "auth.signin" and e["channel"] == "api" for e in log)


def test_users_reassign_and_deactivate_from_the_cli(home: Path) -> None:
    users = _users(home)
    managers = [u for u, roles in users.items() if roles == ["sales_manager"]]
    leaver, colleague = managers[0], managers[1]
    done = run(home, "users", "reassign", leaver, "--to", colleague, "--json")
    assert done.returncode == 0, done.stderr
    moved = json.loads(done.stdout)
    assert moved["from"] == leaver and sum(moved["counts"].values()) > 0
    again = json.loads(run(home, "users", "reassign", leaver, "--to", colleague, "--json").stdout)
    assert sum(again["counts"].values()) == 0  # nothing left: everything moved at once
    assert run(home, "users", "reassign", leaver, "--to", "no.such.user").returncode == 2
    assert run(home, "users", "deactivate", leaver).returncode == 0
    assert leaver not in _users(home)
    out = run(home, "audit", "log", "--action", "user.reassign_all", "--json").stdout
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(events) == 2 and all(e["channel"] == "cli" for e in events)
