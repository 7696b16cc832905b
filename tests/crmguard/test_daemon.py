"""The daemon records the policy in force at start, every reload and every rejected edit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from audit import Ledger, LedgerEntry, load_key_file
from crmguard.app import open_engine
from crmguard.daemon import serve
from crmguard.home import init_home
from crmguard.settings import Settings


def _policy_events(settings: Settings) -> list[LedgerEntry]:
    engine = open_engine(settings)
    try:
        ledger = Ledger(engine, load_key_file(settings.mac_key_file))
        return list(ledger.entries(action="policy.reload"))
    finally:
        engine.dispose()


def _wait_for(settings: Settings, outcome: str, after: int = 0) -> LedgerEntry:
    """The first policy event with ``outcome`` past ledger seq ``after`` (polls, 20 s)."""
    end = time.monotonic() + 20
    while time.monotonic() < end:
        for event in _policy_events(settings):
            if event.seq > after and event.outcome == outcome:
                return event
        time.sleep(0.05)
    raise AssertionError(f"no {outcome} policy.reload event after #{after}")


def test_policy_reloads_and_rejected_edits_are_ledger_events(db_url: str, tmp_path: Path) -> None:
    env = {} if db_url.startswith("sqlite") else {"CRMGUARD_DATABASE_URL": db_url}
    settings = Settings.load(tmp_path / "home", env=env)
    init_home(settings)
    policy = settings.policy_dir / "policy.csv"
    good = policy.read_text()
    stop = threading.Event()
    daemon = threading.Thread(target=serve, args=(settings, stop), daemon=True)
    daemon.start()
    try:
        started = _wait_for(settings, "allowed")
        assert started.details["start"] is True and started.details["version"] == 1
        start_hash = started.details["file_hash"]

        policy.write_text(good + "p, sales_rep, contact, veiw, own, allow\n")
        rejected = _wait_for(settings, "error", started.seq)
        assert (rejected.actor, rejected.resource, rejected.outcome) == (
            "system:daemon",
            "policy",
            "error",
        )
        assert rejected.details["version"] == 1 and "veiw" in rejected.details["error"]
        assert rejected.details["file_hash"] != start_hash

        policy.write_text(good + "# reviewed\n")
        taken = _wait_for(settings, "allowed", rejected.seq)
        assert taken.details["version"] == 2
        assert "error" not in taken.details
        assert taken.details["file_hash"] not in (start_hash, rejected.details["file_hash"])
    finally:
        stop.set()
        daemon.join(30)
    assert not daemon.is_alive()


def test_the_daemon_keeps_the_ledgers_derived_tables_current(db_url: str, tmp_path: Path) -> None:
    """Between jobs the daemon brings the record index to the head and sums the days
    that have ended, so an owner's first question of the day finds them done."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from audit import AuditEvent, day_totals, record_index

    env = {} if db_url.startswith("sqlite") else {"CRMGUARD_DATABASE_URL": db_url}
    settings = Settings.load(tmp_path / "home", env=env)
    init_home(settings)
    engine = open_engine(settings)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    old = Ledger(engine, load_key_file(settings.mac_key_file), clock=lambda: yesterday)
    for i in range(5):
        old.append(AuditEvent("kim", "view", "contact", (i,), 1))
    with engine.connect() as conn:
        head = int(conn.execute(text("SELECT max(seq) FROM audit_ledger")).scalar_one())
    stop = threading.Event()
    daemon = threading.Thread(target=serve, args=(settings, stop), daemon=True)
    daemon.start()
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            with engine.connect() as conn:
                summed = day_totals.totals_upto(conn)
                indexed = record_index.indexed_upto(conn)
            if summed >= head and indexed >= head:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        daemon.join(30)
        engine.dispose()
    assert summed >= head and indexed >= head
