"""Each kind of tampering, done as the holder of the database would (guards dropped
first), is found, named, and placed at the right entry; with the MAC key and, for the
outside auditor, with only the public chain and the signed anchors."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_helpers import KEY, drop_guards, stepping_clock
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from audit import (
    Anchorer,
    AuditEvent,
    FileAnchors,
    Ledger,
    VerifyResult,
    Vouch,
    link,
    verify_chain,
)
from audit.chain import canonical

N = 30


@pytest.fixture
def signer() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def anchors(tmp_path: Path, signer: Ed25519PrivateKey) -> FileAnchors:
    return FileAnchors(tmp_path / "anchors" / "ledger-anchors.jsonl", signer.public_key())


@pytest.fixture
def filled(engine: Engine, signer: Ed25519PrivateKey, anchors: FileAnchors) -> Ledger:
    anchorer = Anchorer(engine, signer, [anchors], every=10, seconds=3600)
    ledger = Ledger(engine, KEY, stepping_clock(), anchorer=anchorer)
    for i in range(1, N + 1):
        ledger.append(AuditEvent(f"user{i % 3}", "view", "contact", (i,), 1))
        if i % 10 == 0:
            anchorer.anchor_now()
    ledger.close()
    return ledger


def vouches(anchors: FileAnchors, signer: Ed25519PrivateKey) -> list[Vouch]:
    return [Vouch(a.seq, a.hash, "the anchor file") for a in anchors.load(signer.public_key())]


def check(
    engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey, key: bytes | None = KEY
) -> VerifyResult:
    return verify_chain(engine, key, signer.public_key(), vouches=vouches(anchors, signer))


def sql(engine: Engine, *statements: str) -> None:
    drop_guards(engine)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def forged_row(engine: Engine, seq: int, prev_hash: str) -> dict[str, object]:
    """A row as a forger without the MAC key makes it: public hash right, seal invented."""
    body = canonical(seq, "2026-11-22T10:00:00.000000Z", "mallory", "view", "contact",
                     "[1]", 1, "allowed", "web", None, None, "{}")  # fmt: skip
    return {"seq": seq, "prev": prev_hash, "hash": link(prev_hash, body), "mac": "0" * 64}


def insert_row(engine: Engine, row: dict[str, object]) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_ledger (seq, ts, actor, action, resource, record_ids, count,"
                " outcome, channel, ip, request_id, details, prev_hash, hash, mac) VALUES "
                "(:seq, '2026-11-22T10:00:00.000000Z', 'mallory', 'view', 'contact', '[1]', 1,"
                " 'allowed', 'web', NULL, NULL, '{}', :prev, :hash, :mac)"
            ),
            row,
        )


def hash_at(engine: Engine, seq: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(text("SELECT hash FROM audit_ledger WHERE seq = :s"), {"s": seq}).scalar()
        )


def test_intact_and_how_far_the_anchors_reach(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    result = check(engine, anchors, signer)
    assert (result.ok, result.checked, result.anchored_seq, result.head_seq) == (True, N, N, N)
    auditor = check(engine, anchors, signer, key=None)
    assert (auditor.ok, auditor.anchored_seq) == (True, N)


def test_altered(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    sql(engine, "UPDATE audit_ledger SET record_ids = '[999]' WHERE seq = 7")
    for key in (KEY, None):
        r = check(engine, anchors, signer, key)
        assert (r.ok, r.first_bad_seq, r.kind, r.checked) == (False, 7, "altered", 6)


def test_deleted(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    sql(engine, "DELETE FROM audit_ledger WHERE seq = 4")
    r = check(engine, anchors, signer)
    assert (r.first_bad_seq, r.kind) == (4, "deleted")
    assert "entry 4 is missing" in (r.problem or "")


def test_deleted_and_renumbered(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    sql(
        engine,
        "DELETE FROM audit_ledger WHERE seq = 4",
        "UPDATE audit_ledger SET seq = -seq WHERE seq > 4",
        "UPDATE audit_ledger SET seq = -seq - 1 WHERE seq < 0",
    )
    r = check(engine, anchors, signer, key=None)
    assert (r.first_bad_seq, r.kind) == (4, "deleted")


def test_inserted(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    # Make room at 5 by renumbering 5.. upwards, then put a forged entry there.
    sql(
        engine,
        "UPDATE audit_ledger SET seq = -seq WHERE seq >= 5",
        "UPDATE audit_ledger SET seq = -seq + 1 WHERE seq < 0",
    )
    insert_row(engine, forged_row(engine, 5, hash_at(engine, 4)))
    for key in (KEY, None):  # the auditor sees it too: entry 6 links past it
        r = check(engine, anchors, signer, key)
        assert (r.first_bad_seq, r.kind) == (5, "inserted"), r


def test_forged_at_the_end(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    insert_row(engine, forged_row(engine, N + 1, hash_at(engine, N)))  # no guard stops INSERT
    r = check(engine, anchors, signer)
    assert (r.first_bad_seq, r.kind) == (N + 1, "forged")


def test_reordered(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    sql(
        engine,
        "UPDATE audit_ledger SET seq = -1 WHERE seq = 5",
        "UPDATE audit_ledger SET seq = 5 WHERE seq = 6",
        "UPDATE audit_ledger SET seq = 6 WHERE seq = -1",
    )
    r = check(engine, anchors, signer, key=None)
    assert (r.first_bad_seq, r.kind) == (5, "reordered")


def test_truncated(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    sql(engine, "DELETE FROM audit_ledger WHERE seq > 24")
    r = check(engine, anchors, signer)
    assert (r.ok, r.first_bad_seq, r.kind) == (False, 25, "truncated")
    assert "entries 25..30 were removed from the end" in (r.problem or "")


def test_emptied(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    sql(engine, "DELETE FROM audit_ledger", "DELETE FROM audit_checkpoints")
    for key in (KEY, None):
        r = check(engine, anchors, signer, key)
        assert (r.ok, r.first_bad_seq, r.kind) == (False, 1, "emptied")


def test_dropped(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    sql(engine, "DROP TABLE audit_ledger")
    r = check(engine, anchors, signer)
    assert (r.ok, r.first_bad_seq, r.kind) == (False, 1, "dropped")


def test_rolled_back(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    # What an older copy looks like from inside: ledger and checkpoints both end earlier.
    sql(
        engine,
        "DELETE FROM audit_ledger WHERE seq > 20",
        "DELETE FROM audit_checkpoints WHERE seq > 20",
    )
    r = check(engine, anchors, signer)
    assert (r.ok, r.first_bad_seq, r.kind) == (False, 21, "rolled_back")
    assert "rolled back" in (r.problem or "")


def test_a_chain_rebuilt_with_the_mac_key_differs_from_its_anchor(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    # The insider holds the MAC key too: they rebuild from entry 15 on, seals and all.
    sql(engine, "DELETE FROM audit_ledger WHERE seq >= 15")
    rebuilt = Ledger(engine, KEY)
    for i in range(15, N + 1):
        rebuilt.append(AuditEvent("user0", "view", "contact", (i + 1000,), 1))
    r = check(engine, anchors, signer)
    # The first anchored entry after 14: the anchorer signs the committed head once ten
    # events are in, which may already be a few entries past the tenth.
    assert r.kind == "rewritten"
    assert r.first_bad_seq is not None and 15 <= r.first_bad_seq <= 20


def test_a_public_chain_rebuilt_without_the_key_fails_at_its_first_entry(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    # Edit entry 12 and recompute every public hash after it: links and hashes all hold,
    # only the seals (found by bisecting the batch) and the anchors give it away.
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_ledger ORDER BY seq")).mappings().all()
    sql(engine, "DELETE FROM audit_ledger WHERE seq >= 12")
    prev = rows[10]["hash"]
    for row in rows[11:]:
        actor = "mallory" if row["seq"] == 12 else row["actor"]
        body = canonical(row["seq"], row["ts"], actor, row["action"], row["resource"],
                         row["record_ids"], row["count"], row["outcome"], row["channel"],
                         row["ip"], row["request_id"], row["details"])  # fmt: skip
        new = {**row, "actor": actor, "prev_hash": prev, "hash": link(prev, body)}
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_ledger VALUES (:seq, :ts, :actor, :action, :resource, "
                    ":record_ids, :count, :outcome, :channel, :ip, :request_id, :details, "
                    ":prev_hash, :hash, :mac)"
                ),
                new,
            )
        prev = new["hash"]
    r = verify_chain(engine, KEY, signer.public_key())  # no anchors: the seals alone
    # The seal gives entry 12 away; if the anchorer happened to sign a head at 12 (it
    # signs the committed head once ten events are in), the anchor names it first.
    assert (r.ok, r.first_bad_seq, r.checked) == (False, 12, 11)
    assert r.kind in ("forged", "rewritten")
    auditor = check(engine, anchors, signer, key=None)  # the anchor at 20 disagrees
    assert auditor.kind == "rewritten"
    assert auditor.first_bad_seq is not None and 12 <= auditor.first_bad_seq <= 20


def test_a_value_of_another_type_is_an_alteration(
    filled: Ledger, engine: Engine, anchors: FileAnchors, signer: Ed25519PrivateKey
) -> None:
    value = "X'00'" if engine.dialect.name == "sqlite" else "'x'"
    column = "actor" if engine.dialect.name == "sqlite" else "details"
    sql(engine, f"UPDATE audit_ledger SET {column} = {value} WHERE seq = 3")
    r = check(engine, anchors, signer)
    assert (r.ok, r.first_bad_seq, r.kind) == (False, 3, "altered")
