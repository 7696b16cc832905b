"""`crmguard audit archive` as an owner would run it: old entries leave the live table for
the home's archive folder, the ledger still verifies, and only the operator or a user
allowed to manage the ledger may do it."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from audit import Ledger, create_signing_key_file, load_key_file
from crmguard.settings import Settings
from tests.e2e.cli import run


def test_archive_moves_old_entries_and_the_ledger_still_verifies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = run(home, "init", "--demo", "--days", "1", "--contacts", "200", "--seed", "5")
    assert made.returncode == 0, made.stderr
    settings = Settings.load(home)
    if not settings.signing_key_file.exists():
        create_signing_key_file(settings.signing_key_file)
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        live_before = conn.execute(text("SELECT count(*) FROM audit_ledger")).scalar_one()
    # The demo's history is recent; a cut-off an hour ago still leaves the newest entries.
    cutoff = (datetime.now(UTC) + timedelta(seconds=-1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    denied = run(home, "audit", "archive", "--before", cutoff, "--as", _a_sales_rep(home))
    assert denied.returncode == 1, denied.stderr
    assert "denied" in denied.stderr

    done = run(home, "audit", "archive", "--before", cutoff, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["entries"] >= live_before
    for segment in report["segments"]:
        stored = settings.backup.local_dir / segment["object_key"]
        assert stored.exists()
        assert stat.S_IMODE(stored.stat().st_mode) & 0o077 == 0
    with engine.connect() as conn:
        first_live = conn.execute(text("SELECT min(seq) FROM audit_ledger")).scalar_one()
    assert first_live == report["segments"][-1]["seq_to"] + 1

    verified = run(home, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    listed = run(home, "audit", "archives", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [s["seq_from"] for s in json.loads(listed.stdout)] == [
        s["seq_from"] for s in report["segments"]
    ]
    # the list of segments spans every user: a rep with their own scope is refused, and
    # the refusal is in the ledger
    rep = _a_sales_rep(home)
    peek = run(home, "audit", "archives", "--json", "--as", rep)
    assert peek.returncode == 1 and "denied" in peek.stderr, peek.stdout + peek.stderr
    assert peek.stdout.strip() == ""
    with engine.connect() as conn:
        refusals = (
            conn.execute(
                text(
                    "SELECT details FROM audit_ledger WHERE actor = :rep AND action = 'audit.read'"
                    " AND outcome = 'denied'"
                ),
                {"rep": rep},
            )
            .scalars()
            .all()
        )
    assert any("archives span every user" in str(d) for d in refusals), refusals
    assert not any("inactive" in str(d) for d in refusals), refusals  # refused by the rules
    nothing = run(home, "audit", "archive", "--before", cutoff)
    assert nothing.returncode == 0 and "nothing to archive" in nothing.stdout

    # Archived entries stay readable with --archive, in the reader's scope only.
    cut = report["segments"][-1]["seq_to"]
    everything = run(home, "audit", "log", "--archive", "--limit", "1000000", "--json")
    assert everything.returncode == 0, everything.stderr
    entries = [json.loads(x) for x in everything.stdout.splitlines()]
    assert min(e["seq"] for e in entries) == 1  # the archive's first entry
    reps = _sales_reps(home)
    rep = next(e["actor"] for e in entries if e["seq"] <= cut and e["actor"] in reps)
    live_only = run(home, "audit", "log", "--actor", rep, "--limit", "100000", "--json")
    assert live_only.returncode == 0 and not any(
        json.loads(x)["seq"] <= cut for x in live_only.stdout.splitlines()
    )
    as_rep = run(home, "audit", "log", "--archive", "--limit", "100000", "--json", "--as", rep)
    assert as_rep.returncode == 0, as_rep.stderr
    theirs = [json.loads(x) for x in as_rep.stdout.splitlines()]
    assert theirs and {e["actor"] for e in theirs} == {rep}
    assert any(e["seq"] <= cut for e in theirs)
    other = next(e["actor"] for e in entries if e["seq"] <= cut and e["actor"] != rep)
    not_theirs = run(home, "audit", "log", "--archive", "--actor", other, "--json", "--as", rep)
    assert not_theirs.returncode == 0 and not_theirs.stdout == ""

    # The archive step itself is evidence.
    ledger = Ledger(engine, load_key_file(settings.mac_key_file))
    steps = list(ledger.entries(action="audit.archive"))
    assert [s.details["seq_to"] for s in steps] == [report["segments"][-1]["seq_to"]]
    engine.dispose()


def test_a_future_cut_off_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "init").returncode == 0
    refused = run(home, "audit", "archive", "--before", "2999-01-01")
    assert refused.returncode == 2
    assert "must be in the past" in refused.stderr


def _sales_reps(home: Path) -> set[str]:
    users = json.loads(run(home, "users", "list", "--json").stdout)
    return {u["username"] for u in users if "sales_rep" in u["roles"]}


def _a_sales_rep(home: Path) -> str:
    """An active one: an inactive user is refused everything, which proves nothing of the
    rule being tested."""
    users = json.loads(run(home, "users", "list", "--json").stdout)
    return str(next(u["username"] for u in users if "sales_rep" in u["roles"] and u["active"]))
