"""Fixtures for the ledger tests: a real database with the ledger tables and a ledger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from audit_helpers import KEY, stepping_clock
from sqlalchemy import Engine, create_engine

from audit import Ledger, create_tables


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = create_engine(db_url)
    create_tables(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    return Ledger(engine, KEY, clock=stepping_clock())


# moto's S3 server over real HTTP, shared with the backup tests' fixture.
from tests.backup.conftest import closed_endpoint, free_port, s3_endpoint  # noqa: E402, F401
