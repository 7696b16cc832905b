"""Verify's check of the record index: an intact index passes (ids in every spelling,
archives, entries not indexed yet), and each way of editing "who viewed record X" is
named, on a real SQLite file and real PostgreSQL, by someone with the database's
rights who drops the index's guards (or needs none: the index takes INSERTs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_helpers import KEY, drop_guards, stepping_clock
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine, text

from audit import AuditEvent, Ledger, LedgerReadError, create_tables
from audit.index_check import check_index


def who_viewed(ledger: Ledger, resource: str, rid: int | str) -> list[tuple[int, str]]:
    """The owner's question, as the CLI and the API ask it."""
    return [(e.seq, e.actor) for e in ledger.entries(record_resource=resource, record_id=rid)]


def fill(ledger: Ledger) -> None:
    """Ids in every form an entry writes them: 42 and "42" (one id), qualified ids of
    another kind, the same record twice in one entry, an entry naming none."""
    ledger.append(AuditEvent("alice", "view", "contact", (42, "company:12", "deal:42"), 1))
    ledger.append(AuditEvent("bob", "view", "company", (12,), 1, channel="api"))
    ledger.append(AuditEvent("carol", "export", "contact", tuple(range(10, 50)), 40))
    ledger.append(AuditEvent("dave", "view", "company", ("12",), 1, outcome="denied"))
    ledger.append(AuditEvent("erin", "list", "contact", (), 0))
    ledger.append(AuditEvent("frank", "view", "contact", (7, "7", "contact:7", "company:"), 1))
    ledger.append(AuditEvent("erin", "restrict", "user", ("alice",), 1))


def sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_an_intact_index_verifies_with_every_form_of_id(ledger: Ledger) -> None:
    assert ledger.verify(index=True).ok  # never filled: nothing to compare
    fill(ledger)
    ledger.index_records()
    ledger.append(AuditEvent("gina", "view", "contact", (42,), 1))  # past the mark
    result = ledger.verify(index=True)
    assert (result.ok, result.notes) == (True, ()), result.problem
    assert check_index(ledger.engine) == (None, None)
    assert who_viewed(ledger, "contact", 7) == [(6, "frank")]
    assert who_viewed(ledger, "contact", 42) == [(1, "alice"), (3, "carol"), (8, "gina")]
    assert ledger.verify(index=True).ok


def test_an_intact_index_verifies_across_archives(engine: Engine) -> None:
    """Archiving takes an entry's rows out with it: what is left still matches."""
    signed = Ledger(engine, KEY, clock=stepping_clock(), signing_key=Ed25519PrivateKey.generate())
    fill(signed)
    signed.index_records()
    fill(signed)  # 8..14, not indexed yet when the archive is made
    segment = signed.seal_archive(9)
    signed.remove_archived(segment.manifest)
    assert signed.verify(index=True).ok
    assert who_viewed(signed, "company", 12) == [(11, "dave")]  # the catch-up past it
    fill(signed)
    assert signed.verify(index=True).ok
    signed.index_records()
    result = signed.verify(index=True)
    assert (result.ok, result.notes) == (True, ()), result.problem


def test_an_insider_hiding_their_own_read_is_named(engine: Engine) -> None:
    """Mallory opened contact 42; the owner asks who viewed it. She drops the index's
    guards and deletes her row: the answer no longer shows her, and verify says so."""
    ledger = Ledger(engine, KEY, clock=stepping_clock())
    fill(ledger)
    ledger.append(AuditEvent("mallory", "view", "contact", (42,), 1))
    fill(ledger)
    assert (8, "mallory") in who_viewed(ledger, "contact", 42)
    assert ledger.verify(index=True).ok
    drop_guards(engine)
    sql(engine, "DELETE FROM audit_record_index WHERE seq = 8")
    assert (8, "mallory") not in who_viewed(ledger, "contact", 42)  # the harm
    result = ledger.verify(index=True)
    assert (result.ok, result.kind, result.first_bad_seq) == (False, "misindexed", 8)
    assert result.checked == 15  # the chain itself is proven
    assert "lacks contact 42 for entry 8 (mallory: view contact)" in str(result.problem)


@pytest.mark.parametrize(
    ("row", "seq"),
    [
        pytest.param("('99', 'contact', 2)", 2, id="a record the entry never named"),
        pytest.param("('12', 'contact', 1)", 1, id="a qualified id read as the entry's kind"),
        pytest.param("('42', 'deal', 3)", 3, id="a plain id of the wrong kind"),
        pytest.param("('42', 'contact', 12)", 12, id="a row for an entry not written yet"),
    ],
)
def test_a_row_slipped_in_to_frame_someone_is_named(ledger: Ledger, row: str, seq: int) -> None:
    """The index takes INSERTs (that is how it grows): a row naming a colleague's entry
    needs no guard dropped, and is caught all the same."""
    fill(ledger)
    ledger.index_records()
    sql(ledger.engine, f"INSERT INTO audit_record_index (rid, resource, seq) VALUES {row}")
    result = ledger.verify(index=True)
    assert (result.ok, result.kind, result.first_bad_seq) == (False, "misindexed", seq)
    assert "a read made up" in str(result.problem)


def test_a_row_made_up_past_the_mark_is_named_before_a_catch_up_believes_it(
    ledger: Ledger,
) -> None:
    fill(ledger)
    ledger.index_records()
    fill(ledger)  # 8..14 not indexed
    sql(
        ledger.engine,
        "INSERT INTO audit_record_index (rid, resource, seq) VALUES ('42', 'contact', 9)",
    )
    result = ledger.verify(index=True)
    assert (result.ok, result.kind, result.first_bad_seq) == (False, "misindexed", 9)
    assert "says entry 9 (bob: view company) names contact 42" in str(result.problem)


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE audit_record_index SET rid = '4242' WHERE seq = 3 AND rid = '42'",
        "UPDATE audit_record_index SET resource = 'deal' WHERE seq = 3 AND rid = '42'",
        "UPDATE audit_record_index SET seq = 2 WHERE seq = 3 AND rid = '42'",
    ],
)
def test_an_edited_row_is_named(ledger: Ledger, edit: str) -> None:
    fill(ledger)
    ledger.index_records()
    drop_guards(ledger.engine)
    sql(ledger.engine, edit)
    result = ledger.verify(index=True)
    assert (result.ok, result.kind) == (False, "misindexed")
    assert result.first_bad_seq in (2, 3)


def test_a_row_left_for_an_archived_entry_is_named(engine: Engine) -> None:
    signed = Ledger(engine, KEY, clock=stepping_clock(), signing_key=Ed25519PrivateKey.generate())
    fill(signed)
    signed.index_records()
    signed.remove_archived(signed.seal_archive(3).manifest)
    sql(engine, "INSERT INTO audit_record_index (rid, resource, seq) VALUES ('42', 'contact', 3)")
    result = signed.verify(index=True)
    assert (result.ok, result.kind, result.first_bad_seq) == (False, "misindexed", 3)
    assert "not in the live ledger" in str(result.problem)


def test_a_mark_moved_past_the_head_is_named(ledger: Ledger) -> None:
    """The mark is not guarded (it moves): moved ahead, the next entries would never be
    indexed, and no question by record would look at them."""
    fill(ledger)
    ledger.index_records()
    sql(ledger.engine, "UPDATE audit_index_progress SET indexed_upto = 20")
    ahead = ledger.verify(index=True)
    assert (ahead.ok, ahead.kind, ahead.first_bad_seq) == (False, "misindexed", 8)
    assert "claims to cover entries up to 20, but the ledger ends at 7" in str(ahead.problem)
    ledger.append(AuditEvent("mallory", "view", "contact", (42,), 1))  # the read hidden
    assert (8, "mallory") not in who_viewed(ledger, "contact", 42)
    later = ledger.verify(index=True)  # names the read already hidden, not only the next one
    assert (later.ok, later.kind, later.first_bad_seq) == (False, "misindexed", 8)
    assert "lacks contact 42 for entry 8 (mallory" in str(later.problem)


def test_a_mark_moved_back_hides_nothing_even_on_a_read_only_copy(tmp_path: Path) -> None:
    """Moved back, the next catch-up indexes again from it; a copy that refuses writes
    matches the entries past it one by one, and returns none of them twice."""
    path = tmp_path / "ledger.db"
    writable = create_engine(f"sqlite:///{path}")
    create_tables(writable)
    ledger = Ledger(writable, KEY, clock=stepping_clock())
    fill(ledger)
    ledger.index_records()
    expected = who_viewed(ledger, "company", 12)
    sql(writable, "UPDATE audit_index_progress SET indexed_upto = 1")
    assert ledger.verify(index=True).ok
    writable.dispose()
    read_only = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert who_viewed(Ledger(read_only, KEY), "company", 12) == expected == [
            (1, "alice"), (2, "bob"), (4, "dave")
        ]  # fmt: skip
        assert Ledger(read_only, KEY).verify(index=True).ok
    finally:
        read_only.dispose()


@pytest.mark.parametrize("table", ["audit_record_index", "audit_index_progress"])
def test_without_the_index_tables_verify_notes_it_and_questions_are_loud(
    ledger: Ledger, table: str
) -> None:
    fill(ledger)
    ledger.index_records()
    sql(ledger.engine, f"DROP TABLE {table}")
    result = ledger.verify(index=True)
    assert (result.ok, result.notes) == (
        True,
        (f"the record index table {table} is missing: index not compared",),
    )
    with pytest.raises(LedgerReadError):
        who_viewed(ledger, "contact", 42)  # never an answer without the index


def test_an_index_emptied_and_made_again_is_named(ledger: Ledger) -> None:
    """The table dropped and created again (empty) under a mark that says it is full."""
    fill(ledger)
    ledger.index_records()
    sql(ledger.engine, "DROP TABLE audit_record_index")
    create_tables(ledger.engine)
    assert who_viewed(ledger, "contact", 42) == []  # what the owner would be told
    result = ledger.verify(index=True)
    assert (result.ok, result.kind, result.first_bad_seq) == (False, "misindexed", 1)


def test_the_index_is_compared_only_when_asked(ledger: Ledger) -> None:
    """The deep check costs several walks on a ledger whose entries name many records,
    so plain verify proves the entries and the day totals, and ``index=True`` (``crmguard
    audit verify --index``) the record index too."""
    fill(ledger)
    ledger.index_records()
    drop_guards(ledger.engine)
    with ledger.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_record_index WHERE seq = 6"))
    assert ledger.verify().ok
    deep = ledger.verify(index=True)
    assert (deep.ok, deep.kind, deep.first_bad_seq) == (False, "misindexed", 6)
