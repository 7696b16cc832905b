"""verify(): a clean chain passes; each kind of tampering is found at the right entry."""

from __future__ import annotations

import pytest
from audit_helpers import KEY, drop_guards, stepping_clock, tamper
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from audit import AuditEvent, KeyFileError, Ledger
from audit import verify as verify_module
from audit.chain import canonical, mac


def fill(ledger: Ledger, n: int) -> None:
    for i in range(1, n + 1):
        ledger.append(AuditEvent(f"user{i % 3}", "view", "contact", (i,), 1))


def test_a_clean_chain_verifies_and_reports_progress(engine: Engine) -> None:
    ledger = Ledger(engine, KEY)
    assert ledger.verify().to_json() == {
        "ok": True,
        "checked": 0,
        "first_bad_seq": None,
        "problem": None,
    }
    fill(ledger, 25)
    seen: list[int] = []
    result = verify_module.verify_chain(engine, KEY, progress=seen.append, batch=10)
    assert result.ok and result.checked == 25
    assert seen == [10, 20, 25]  # streamed in batches, never all rows at once
    assert ledger.verify().to_json() == {
        "ok": True,
        "checked": 25,
        "first_bad_seq": None,
        "problem": None,
    }


def test_an_edited_row_fails_its_mac(ledger: Ledger, engine: Engine) -> None:
    fill(ledger, 10)
    tamper(engine, "UPDATE audit_ledger SET record_ids = '[999]' WHERE seq = 7")
    result = ledger.verify()
    assert not result.ok
    assert (result.first_bad_seq, result.checked) == (7, 6)
    assert result.problem is not None and "altered" in result.problem


def test_a_deleted_row_is_a_gap(ledger: Ledger, engine: Engine) -> None:
    fill(ledger, 10)
    tamper(engine, "DELETE FROM audit_ledger WHERE seq = 4")
    result = ledger.verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.problem is not None and "missing" in result.problem


def test_swapped_rows_do_not_link(ledger: Ledger, engine: Engine) -> None:
    fill(ledger, 10)
    drop_guards(engine)
    with engine.begin() as conn:  # give entry 6 the content of entry 5 and vice versa
        conn.execute(text("UPDATE audit_ledger SET seq = -1 WHERE seq = 5"))
        conn.execute(text("UPDATE audit_ledger SET seq = 5 WHERE seq = 6"))
        conn.execute(text("UPDATE audit_ledger SET seq = 6 WHERE seq = -1"))
    result = ledger.verify()
    assert (result.ok, result.first_bad_seq, result.kind) == (False, 5, "reordered")
    assert result.problem is not None and "reordered" in result.problem


def test_a_recomputed_hash_without_the_key_fails(ledger: Ledger, engine: Engine) -> None:
    fill(ledger, 5)
    # A forger who rewrites an entry and its hash with another key still breaks the MAC.
    row = next(iter(ledger.entries(actor="user0")))
    body = canonical(
        row.seq, row.to_json()["ts"], "someone-else", row.action, row.resource, "[3]",
        row.count, row.outcome, row.channel, row.ip, row.request_id, "{}",
    )  # fmt: skip
    new_hash = mac(b"x" * 32, row.prev_hash, body)
    tamper(
        engine,
        "UPDATE audit_ledger SET actor = 'someone-else', hash = :h WHERE seq = :s",
        h=new_hash,
        s=row.seq,
    )
    result = ledger.verify()
    assert (result.ok, result.first_bad_seq) == (False, row.seq)


def test_the_wrong_key_is_bad_input_not_tampering(ledger: Ledger, engine: Engine) -> None:
    fill(ledger, 3)
    with pytest.raises(KeyFileError, match="MAC key does not match this ledger"):
        Ledger(engine, bytes(32)).verify()


def test_checkpoints_expose_a_truncated_tail(engine: Engine) -> None:
    signer = Ed25519PrivateKey.generate()
    ledger = Ledger(engine, KEY, stepping_clock(), signing_key=signer, checkpoint_every=4)
    fill(ledger, 10)  # checkpoints at 4 and 8, written with those entries
    assert ledger.verify().ok
    tamper(engine, "DELETE FROM audit_ledger WHERE seq > 6")
    # Even a reader without the signing key sees it, through the stored checkpoints.
    assert Ledger(engine, KEY).verify().first_bad_seq == 7
    result = ledger.verify()
    assert (result.ok, result.first_bad_seq) == (False, 7)
    assert result.problem is not None and "removed from the end" in result.problem


def test_a_rewritten_chain_disagrees_with_its_checkpoint(engine: Engine) -> None:
    signer = Ed25519PrivateKey.generate()
    ledger = Ledger(engine, KEY, stepping_clock(), signing_key=signer)
    fill(ledger, 3)
    checkpoint = ledger.checkpoint()
    assert (checkpoint.seq, checkpoint.hash) == ledger.head()
    # Someone holding the MAC key (but not the signing key) rebuilds the last entry.
    tamper(engine, "DELETE FROM audit_ledger WHERE seq = 3")
    Ledger(engine, KEY).append(AuditEvent("forger", "view", "contact"))
    result = ledger.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem is not None and "checkpoint" in result.problem


def test_a_checkpoint_signed_with_another_key_is_refused(engine: Engine) -> None:
    owner = Ed25519PrivateKey.generate()
    fill(Ledger(engine, KEY), 3)
    Ledger(engine, KEY, signing_key=Ed25519PrivateKey.generate()).checkpoint()
    result = Ledger(engine, KEY, verify_key=owner.public_key()).verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert result.problem is not None and "invalid signature" in result.problem


@pytest.mark.parametrize("column", ["prev_hash", "ts", "details", "count"])
def test_every_hashed_column_is_covered(ledger: Ledger, engine: Engine, column: str) -> None:
    fill(ledger, 3)
    value = {
        "prev_hash": "f" * 64,
        "ts": "2030-01-01T00:00:00.000000Z",
        "details": '{"a":1}',
        "count": 5,
    }[column]
    tamper(engine, f"UPDATE audit_ledger SET {column} = :v WHERE seq = 2", v=value)
    result = ledger.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_a_junk_checkpoint_row_is_reported_not_a_crash(ledger: Ledger, engine: Engine) -> None:
    fill(ledger, 2)
    with engine.begin() as conn:  # inserting is allowed; the junk must still be caught
        conn.execute(
            text(
                "INSERT INTO audit_checkpoints (seq, hash, ts, signature, public_key) "
                "VALUES (1, 'h', 'not a time', 'zz', 'p')"
            )
        )
    result = ledger.verify()
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert result.problem is not None and "invalid signature" in result.problem
