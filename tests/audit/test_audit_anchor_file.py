"""The anchor file: written append-only, read back with every signature checked, and
refused (naming the file) when it is corrupt or belongs to another ledger."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import AnchorError, AnchorUnavailable, FileAnchors
from audit.anchors import sign

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_round_trip_header_and_mode(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "anchors" / "ledger-anchors.jsonl"
    store = FileAnchors(path, key.public_key())
    store.create()
    a1, a2 = sign(key, 10, "a" * 64, NOW), sign(key, 20, "b" * 64, NOW)
    store.publish(a1)
    store.publish(a2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "crmguard-ledger-anchors"
    assert FileAnchors(path).load(key.public_key()) == [a1, a2]
    assert store.last_anchor() == a2


def test_a_line_cut_short_by_a_crash_is_ignored_and_sealed_off(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "a.jsonl"
    store = FileAnchors(path, key.public_key())
    store.publish(sign(key, 1, "a" * 64, NOW))
    with path.open("a") as fh:
        fh.write('{"seq": 2, "hash"')  # power cut mid-write
    assert [a.seq for a in store.load(key.public_key())] == [1]
    store.publish(sign(key, 3, "c" * 64, NOW))  # the torn line is closed, never rewritten
    with pytest.raises(AnchorError, match=rf"{path} line 3 is corrupt"):
        store.load(key.public_key())


def test_another_ledgers_file_is_named(tmp_path: Path) -> None:
    theirs, ours = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    path = tmp_path / "a.jsonl"
    FileAnchors(path, theirs.public_key()).publish(sign(theirs, 5, "a" * 64, NOW))
    with pytest.raises(AnchorError, match=rf"{path} belongs to another ledger"):
        FileAnchors(path).load(ours.public_key())


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json\n",
        '{"format": "something-else"}\n',
    ],
)
def test_a_file_that_is_not_an_anchor_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(content)
    with pytest.raises(AnchorError, match=str(path)):
        FileAnchors(path).load(Ed25519PrivateKey.generate().public_key())


def test_a_forged_anchor_line_is_refused(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "a.jsonl"
    store = FileAnchors(path, key.public_key())
    store.publish(sign(key, 5, "a" * 64, NOW))
    # Someone appends a line claiming a shorter ledger, with a signature of their own.
    fake = sign(Ed25519PrivateKey.generate(), 3, "b" * 64, NOW)
    with path.open("a") as fh:
        fh.write(json.dumps(fake.to_json()) + "\n")
    with pytest.raises(AnchorError, match=r"line 3 is corrupt.*signature"):
        store.load(key.public_key())


def test_missing_file_and_unwritable_place(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(AnchorError, match="does not exist"):
        FileAnchors(tmp_path / "none.jsonl").load(key.public_key())
    blocker = tmp_path / "mount"
    blocker.write_text("not a directory")  # the other disk is not mounted
    with pytest.raises(AnchorUnavailable, match="cannot open anchor file"):
        FileAnchors(blocker / "a.jsonl", key.public_key()).publish(sign(key, 1, "a" * 64, NOW))
