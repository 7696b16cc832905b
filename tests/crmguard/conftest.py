"""Fixtures for the shell's tests: a guarded CRM on a real database, seeded small."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crmguard.world import World, build_world


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    w = build_world(db_url, tmp_path / "keys")
    yield w
    w.crm.engine.dispose()


@pytest.fixture
def sqlite_world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    w = build_world(sqlite_url, tmp_path / "keys")
    yield w
    w.crm.engine.dispose()
