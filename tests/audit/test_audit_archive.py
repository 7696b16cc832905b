"""Archiving: old entries leave the live table only sealed, signed and covered by an
archive row; verification and queries carry on across the archive and the live table."""

from __future__ import annotations

import pytest
from audit_helpers import KEY, START, drop_guards, stepping_clock
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from audit import ArchiveError, AuditEvent, Ledger
from audit.archive import open_segment


@pytest.fixture
def signed(engine: Engine) -> Ledger:
    return Ledger(engine, KEY, clock=stepping_clock(), signing_key=Ed25519PrivateKey.generate())


def fill(ledger: Ledger, n: int) -> None:
    for i in range(1, n + 1):
        ledger.append(AuditEvent(f"user{i % 3}", "view", "contact", (i % 5,), 1))


def archive_upto(ledger: Ledger, store: dict[str, bytes], upto: int) -> None:
    segment = ledger.seal_archive(upto)
    store[segment.manifest.object_key] = segment.data
    ledger.remove_archived(segment.manifest)


def live_seqs(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT seq FROM audit_ledger ORDER BY seq")).scalars())


def test_archived_entries_leave_and_the_chain_still_verifies(
    signed: Ledger, engine: Engine
) -> None:
    fill(signed, 20)
    store: dict[str, bytes] = {}
    archive_upto(signed, store, 8)
    archive_upto(signed, store, 15)
    assert live_seqs(engine) == list(range(16, 21))
    assert [(m.seq_from, m.seq_to) for m in signed.archives()] == [(1, 8), (9, 15)]
    result = signed.verify()
    assert result.ok, result.problem
    signed.append(AuditEvent("user9", "export", "contact", (4,), 1))
    assert signed.verify().ok


def test_queries_can_include_the_archive(signed: Ledger) -> None:
    fill(signed, 20)
    store: dict[str, bytes] = {}
    archive_upto(signed, store, 12)
    reader = store.__getitem__
    everything = [e.seq for e in signed.entries(archive_reader=reader)]
    assert everything == list(range(1, 21))
    who_viewed = [
        e.seq for e in signed.entries(record_resource="contact", record_id=3, archive_reader=reader)
    ]
    assert who_viewed == [3, 8, 13, 18]
    assert [e.seq for e in signed.entries(record_resource="contact", record_id=3)] == [13, 18]
    newest = signed.entries(actor="user1", newest_first=True, limit=5, archive_reader=reader)
    assert [e.seq for e in newest] == [19, 16, 13, 10, 7]
    since = START.replace(second=START.second + 5)
    assert [
        e.seq
        for e in signed.entries(
            since=since, until=since.replace(second=since.second + 3), archive_reader=reader
        )
    ] == [6, 7, 8]


def test_an_altered_segment_is_refused(signed: Ledger) -> None:
    fill(signed, 10)
    segment = signed.seal_archive(5)
    tampered = bytearray(segment.data)
    tampered[-1] ^= 1
    with pytest.raises(ArchiveError, match="does not match its manifest"):
        list(open_segment(segment.manifest, bytes(tampered)))
    assert len(list(open_segment(segment.manifest, segment.data))) == 5


def test_the_database_refuses_deletes_no_archive_covers(signed: Ledger, engine: Engine) -> None:
    fill(signed, 10)
    archive_upto(signed, {}, 4)
    for statement in ("DELETE FROM audit_ledger WHERE seq = 7", "DELETE FROM audit_archives"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert live_seqs(engine) == list(range(5, 11))


def test_archives_go_oldest_first_and_never_over_a_damaged_chain(
    signed: Ledger, engine: Engine
) -> None:
    fill(signed, 10)
    segment = signed.seal_archive(4)
    archive_upto(signed, {}, 6)
    with pytest.raises(ArchiveError, match="archive the oldest entries first"):
        signed.remove_archived(segment.manifest)
    drop_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_ledger SET actor = 'someone' WHERE seq = 8"))
    with pytest.raises(ArchiveError, match="refusing to archive a damaged ledger"):
        signed.seal_archive(9)


def test_a_forged_archive_row_is_caught_by_verify(signed: Ledger, engine: Engine) -> None:
    """An insider who writes an archive row to slip entries out of the table cannot sign it."""
    fill(signed, 10)
    segment = signed.seal_archive(3)
    forged = segment.manifest.to_json() | {"signature": "00" * 64}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_archives (seq_from, seq_to, prev_hash, last_hash, entries, "
                "first_ts, last_ts, object_key, sha256, size, sealed_at, signature, public_key) "
                "VALUES (:seq_from, :seq_to, :prev_hash, :last_hash, :entries, :first_ts, "
                ":last_ts, :object_key, :sha256, :size, :sealed_at, :signature, :public_key)"
            ),
            forged,
        )
        conn.execute(text("DELETE FROM audit_ledger WHERE seq <= 3"))
    result = signed.verify()
    assert not result.ok
    assert result.first_bad_seq == 1
    assert "invalid signature" in (result.problem or "")


def test_archiving_needs_the_signing_key(ledger: Ledger) -> None:
    fill(ledger, 3)
    with pytest.raises(ArchiveError, match="signing key"):
        ledger.seal_archive(2)
