"""Seeding a demo home: the dataset, then simulated usage through the guarded service."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from access import AccessControl
from crmguard.app import open_engine
from crmguard.ledger_anchors import open_ledger
from crmguard.seed.dataset import DatasetSummary, seed_dataset
from crmguard.seed.simulate import SimClock, Simulation, SimulationStats
from crmguard.service import GuardedCRM
from crmguard.settings import Settings


@dataclass(frozen=True)
class DemoSummary:
    """What was seeded, and who plays which part in the story."""

    dataset: DatasetSummary
    stats: SimulationStats
    days: int
    seconds: float

    def describe(self) -> str:
        counts = ", ".join(f"{n:,} {t}" for t, n in self.dataset.counts.items())
        return (
            f"seeded {counts}\n"
            f"simulated {self.days} day{'' if self.days == 1 else 's'} of usage: "
            f"{self.stats.events:,} guarded requests "
            f"({self.stats.denied:,} denied, {self.stats.exports:,} exports) "
            f"in {self.seconds:.1f}s\n"
            f"departing sales manager: {self.dataset.departing} "
            f"(exported {self.stats.departing_exported_rows:,} contact rows in the last days)"
        )


def seed_demo(
    settings: Settings,
    *,
    seed: int = 42,
    days: int = 30,
    contacts: int = 20_000,
    now: datetime | None = None,
) -> DemoSummary:
    """Fill an initialised, empty home with a realistic CRM and a usage history that
    ends at ``now`` (default: the current time)."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    engine = open_engine(settings, bulk=True)
    try:
        dataset = seed_dataset(engine, seed=seed, contacts=contacts, now=now)
        clock = SimClock(now)
        ledger = open_ledger(settings, engine, clock=clock)
        access = AccessControl.from_dir(settings.policy_dir)
        crm = GuardedCRM(engine, access, ledger, clock=clock)
        try:
            stats = Simulation(crm, clock, engine, dataset.departing, seed).run(days, now)
            # What the daemon would have raised while it happened: detection over the
            # seeded history, with the rules and responses a new home ships with.
            from crmguard.alerting import catch_up

            catch_up(settings, engine, ledger)
        finally:
            ledger.close()  # the history seeded is anchored like any other
    finally:
        engine.dispose()
    return DemoSummary(dataset, stats, days, time.perf_counter() - started)
