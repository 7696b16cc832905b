"""``init --force`` on a home whose ledger holds events: a question first, and the old
database kept under a timestamped name, never deleted."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli import run


def test_init_force_refuses_a_ledger_with_events_unless_yes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "init").returncode == 0
    assert run(home, "audit", "verify").returncode == 0  # the read itself is an event
    out = run(home, "init", "--force")
    assert out.returncode == 2 and "--yes" in out.stderr and "events" in out.stderr
    assert not list(home.glob("crmguard.db.replaced-*"))

    out = run(home, "init", "--force", "--yes")
    assert out.returncode == 0, out.stderr
    kept = list(home.glob("crmguard.db.replaced-*"))
    assert len(kept) == 1 and kept[0].name in out.stdout
    assert kept[0].stat().st_size > 0
    assert run(home, "init", "--force").returncode == 0  # a fresh ledger: only the verify
