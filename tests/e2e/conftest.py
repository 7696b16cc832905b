"""A seeded demo home shared by the CLI tests (made once per session, read-mostly)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli import run


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    result = run(home, "init", "--demo", "--days", "5", "--contacts", "2000", "--seed", "3")
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture(scope="session")
def demo_users(demo_home: Path) -> dict[str, dict[str, object]]:
    result = run(demo_home, "users", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {u["username"]: u for u in json.loads(result.stdout)}
