"""Fixtures for the API tests: the seeded world served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import Server, serving
from tests.crmguard.world import World, build_world


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    w = build_world(db_url, tmp_path / "keys", contacts=300)
    yield w
    w.crm.engine.dispose()


@pytest.fixture
def server(world: World, tmp_path: Path) -> Iterator[Server]:
    with serving(world, tmp_path / "home") as s:
        yield s
