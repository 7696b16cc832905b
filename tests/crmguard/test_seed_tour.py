"""The demo's story holds for any number of days, weekend or not, and small demos too."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crmguard.home import init_home
from crmguard.seed.demo import seed_demo
from crmguard.seed.tour import run_tour
from crmguard.settings import Settings

MONDAY = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # the day before is a Sunday
THURSDAY = datetime(2026, 11, 26, 7, 5, tzinfo=UTC)


def _story(settings: Settings, *, days: int, seed: int, now: datetime, contacts: int) -> None:
    init_home(settings)
    summary = seed_demo(settings, seed=seed, days=days, contacts=contacts, now=now)
    assert summary.stats.exports > 0 and summary.stats.departing_exported_rows > 0
    facts = run_tour(settings, summary)
    assert facts.owner_view_allowed and facts.manager_view_allowed
    assert facts.other_team_refused, "a rep opened another team's client"
    assert facts.support_masked
    assert facts.ledger_intact and facts.backup_verified
    assert facts.departing_exports > 0 and facts.departing_rows > 0
    # The wrong numbers he left behind are in the ledger with the right ones.
    assert facts.departing_changes > 0 and facts.old_values_recovered > 0


@pytest.mark.parametrize(
    ("days", "seed", "now"),
    [(1, 7, MONDAY), (1, 42, THURSDAY), (2, 3, MONDAY), (9, 11, THURSDAY)],
)
def test_story_holds_on_sqlite(tmp_path: Path, days: int, seed: int, now: datetime) -> None:
    settings = Settings.load(tmp_path / "home", env={})
    _story(settings, days=days, seed=seed, now=now, contacts=120)


def test_story_holds_on_every_database(db_url: str, tmp_path: Path) -> None:
    env = {} if db_url.startswith("sqlite") else {"CRMGUARD_DATABASE_URL": db_url}
    settings = Settings.load(tmp_path / "home", env=env)
    _story(settings, days=1, seed=5, now=MONDAY, contacts=100)


def test_the_departing_managers_last_days_raise_alerts(tmp_path: Path) -> None:
    """Past the detectors' learning week and at a size where his exports stand out."""
    settings = Settings.load(tmp_path / "home", env={})
    init_home(settings)
    summary = seed_demo(settings, seed=7, days=10, contacts=3000, now=MONDAY)
    facts = run_tour(settings, summary)
    assert facts.departing_alerts, "the departing manager's exports raised no alert"
