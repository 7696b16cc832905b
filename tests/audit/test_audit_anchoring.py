"""The anchorer: every N events and at shutdown; an unreachable store holds the anchor
back until it is reachable again, and appends never wait for it."""

from __future__ import annotations

import time
from pathlib import Path

from audit_helpers import KEY, drop_guards
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from audit import Anchorer, AuditEvent, FileAnchors, Ledger


def fill(ledger: Ledger, n: int) -> None:
    for i in range(n):
        ledger.append(AuditEvent("alice", "view", "contact", (i,), 1))


def wait_for(cond: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_every_n_events_and_at_shutdown(engine: Engine, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    store = FileAnchors(tmp_path / "a.jsonl", key.public_key())
    ledger = Ledger(engine, KEY, anchorer=Anchorer(engine, key, [store], every=10, seconds=3600))
    fill(ledger, 25)
    assert wait_for(lambda: store.last_anchor() is not None and store.last_anchor().seq >= 10)
    ledger.close()
    anchors = store.load(key.public_key())
    assert anchors[-1].seq == 25 and (anchors[-1].seq, anchors[-1].hash) == ledger.head()
    assert all(a.seq <= 25 for a in anchors)
    with engine.connect() as conn:  # the same anchors are database checkpoints too
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_checkpoints"))]
    assert seqs == [a.seq for a in anchors]


def test_the_timer_anchors_a_quiet_ledger(engine: Engine, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    store = FileAnchors(tmp_path / "a.jsonl", key.public_key())
    anchorer = Anchorer(engine, key, [store], every=1000, seconds=0.1)
    ledger = Ledger(engine, KEY, anchorer=anchorer)
    fill(ledger, 3)
    assert wait_for(lambda: store.last_anchor() is not None)
    assert store.last_anchor().seq == 3  # type: ignore[union-attr]
    ledger.close()


def test_an_unreachable_store_catches_up_when_back(engine: Engine, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    mount = tmp_path / "other-disk"
    mount.write_text("the disk is not mounted")
    store = FileAnchors(mount / "a.jsonl", key.public_key())
    anchorer = Anchorer(engine, key, [store], every=5, seconds=3600)
    ledger = Ledger(engine, KEY, anchorer=anchorer)
    fill(ledger, 12)  # appends go on while the store is away
    assert ledger.head() is not None and ledger.head()[0] == 12  # type: ignore[index]
    anchorer.anchor_now()
    assert list(anchorer.pending()) == [store.describe()]
    mount.unlink()  # the disk is back
    anchorer.anchor_now()
    assert anchorer.pending() == {}
    assert store.load(key.public_key())[-1].seq == 12
    ledger.close()


def test_it_never_anchors_a_shortened_ledger(engine: Engine, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    store = FileAnchors(tmp_path / "a.jsonl", key.public_key())
    ledger = Ledger(engine, KEY, anchorer=Anchorer(engine, key, [store], every=1000))
    fill(ledger, 10)
    ledger.close()
    drop_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_ledger WHERE seq > 6"))
    # A new process starts, appends and shuts down: the cut tail is not blessed.
    again = Ledger(engine, KEY, anchorer=Anchorer(engine, key, [store], every=1000))
    fill(again, 1)
    again.close()
    assert [a.seq for a in store.load(key.public_key())] == [10]
