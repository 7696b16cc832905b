"""entries() filters ("who looked at client X?") and the JSON Lines export contract."""

from __future__ import annotations

import io
import itertools
import json
from datetime import timedelta

from audit_helpers import KEY, START
from sqlalchemy import Engine

from audit import AuditEvent, Ledger, verify_export

EXPORT_KEYS = [
    "seq", "ts", "actor", "action", "resource", "record_ids", "count", "outcome",
    "channel", "ip", "request_id", "details", "prev_hash", "hash",
]  # fmt: skip


def populate(ledger: Ledger) -> None:
    ledger.append(AuditEvent("alice", "view", "contact", (42,), 1, channel="web"))  # 10:00:00
    ledger.append(AuditEvent("bob", "view", "contact", (7,), 1, outcome="denied"))  # 10:00:01
    ledger.append(AuditEvent("bob", "export", "contact", tuple(range(100)), 100))  # 10:00:02
    ledger.append(AuditEvent("carol", "view", "deal", (42,), 1))  # 10:00:03
    ledger.append(AuditEvent("dave", "view", "contact", (421, "x42", "42_"), 3))  # 10:00:04
    ledger.append(AuditEvent("erin", "view", "contact", ("42",), 1))  # 10:00:05


def seqs(entries: object) -> list[int]:
    return [e.seq for e in entries]  # type: ignore[attr-defined]


def test_who_looked_at_client_42(ledger: Ledger) -> None:
    populate(ledger)
    assert seqs(ledger.entries(record_id=42)) == [1, 3, 4, 6]
    assert seqs(ledger.entries(record_id=42, resource="contact")) == [1, 3, 6]
    assert seqs(ledger.entries(record_id="42_")) == [5]  # LIKE wildcards are literal
    assert seqs(ledger.entries(record_id="x42")) == [5]
    assert seqs(ledger.entries(record_id=99)) == [3]
    assert seqs(ledger.entries(record_id=100)) == []


def test_filters_combine_and_page(ledger: Ledger) -> None:
    populate(ledger)
    assert seqs(ledger.entries(actor="bob")) == [2, 3]
    assert seqs(ledger.entries(action="export")) == [3]
    assert seqs(ledger.entries(outcome="denied")) == [2]
    assert seqs(ledger.entries(resource="deal")) == [4]
    assert seqs(ledger.entries(since=START + timedelta(seconds=2))) == [3, 4, 5, 6]
    assert seqs(ledger.entries(until=START + timedelta(seconds=2))) == [1, 2]
    window = ledger.entries(START + timedelta(seconds=1), START + timedelta(seconds=4))
    assert seqs(window) == [2, 3, 4]
    assert seqs(ledger.entries(newest_first=True, limit=2)) == [6, 5]
    assert seqs(ledger.entries(record_id=42, newest_first=True, limit=3)) == [6, 4, 3]
    assert seqs(ledger.entries(limit=0)) == []


def test_entries_stream_across_batches(engine: Engine) -> None:
    from audit import query

    ledger = Ledger(engine, KEY)
    for i in range(25):
        ledger.append(AuditEvent("alice", "view", "contact", (i,), 1))
    rows = list(query.iter_rows(engine, query.Filters(), batch=10))
    assert [r.seq for r in rows] == list(range(1, 26))
    rows = list(query.iter_rows(engine, query.Filters(), newest_first=True, batch=10))
    assert [r.seq for r in rows] == list(range(25, 0, -1))


def test_export_jsonl_is_exactly_the_contract(ledger: Ledger) -> None:
    populate(ledger)
    out = io.StringIO()
    assert ledger.export_jsonl(out) == 6
    lines = out.getvalue().splitlines()
    first = json.loads(lines[0])
    assert list(first) == EXPORT_KEYS
    entry = next(iter(ledger.entries()))
    assert first == {
        "seq": 1,
        "ts": "2026-11-22T10:00:00.123456Z",
        "actor": "alice",
        "action": "view",
        "resource": "contact",
        "record_ids": [42],
        "count": 1,
        "outcome": "allowed",
        "channel": "web",
        "ip": None,
        "request_id": None,
        "details": {},
        "prev_hash": "0" * 64,
        "hash": entry.hash,
    }
    assert json.loads(lines[4])["record_ids"] == [421, "x42", "42_"]
    # Each line links to the one before: the export can be checked on its own.
    parsed = [json.loads(line) for line in lines]
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(parsed))


def test_export_window(ledger: Ledger) -> None:
    populate(ledger)
    out = io.StringIO()
    n = ledger.export_jsonl(out, since=START + timedelta(seconds=3))
    assert n == 3
    assert [json.loads(x)["seq"] for x in out.getvalue().splitlines()] == [4, 5, 6]


def test_an_export_verifies_offline_and_shows_edits(ledger: Ledger) -> None:
    populate(ledger)
    out = io.StringIO()
    ledger.export_jsonl(out)
    lines = out.getvalue().splitlines()
    assert verify_export(lines, KEY).to_json() == {
        "ok": True,
        "checked": 6,
        "first_bad_seq": None,
        "problem": None,
    }
    partial = io.StringIO()
    ledger.export_jsonl(partial, since=START + timedelta(seconds=2))
    assert verify_export(partial.getvalue().splitlines(), KEY).checked == 4
    edited = lines.copy()
    edited[2] = edited[2].replace('"actor":"bob"', '"actor":"carl"')
    assert verify_export(edited, KEY).first_bad_seq == 3
    assert verify_export(lines[:3] + lines[4:], KEY).first_bad_seq == 4
    # The public chain needs no key: an auditor checks the same file with none.
    assert verify_export(lines).to_json() == verify_export(lines, KEY).to_json()
    assert verify_export(edited).kind == "altered"


def test_one_record_by_resource_and_id_finds_plain_and_qualified_ids(ledger: Ledger) -> None:
    ledger.append(AuditEvent("alice", "view", "company", (12,), 1))  # an old, plain event
    ledger.append(AuditEvent("bob", "view", "contact", (42, "company:12"), 2))
    ledger.append(AuditEvent("carol", "view", "contact", (12,), 1))
    ledger.append(AuditEvent("dave", "view", "contact", (5, "company:120", "company:1"), 3))
    ledger.append(AuditEvent("erin", "restrict", "user", ("ann",), 1))
    assert seqs(ledger.entries(record_id=12, record_resource="company")) == [1, 2]
    assert seqs(ledger.entries(record_id="12", record_resource="company")) == [1, 2]
    assert seqs(ledger.entries(record_id=12, record_resource="contact")) == [3]
    assert seqs(ledger.entries(record_id=42, record_resource="contact")) == [2]
    assert seqs(ledger.entries(record_id=1, record_resource="company")) == [4]
    assert seqs(ledger.entries(record_id="ann", record_resource="user")) == [5]
    assert seqs(ledger.entries(record_id=12)) == [1, 2, 3]  # id 12 of any resource


def test_extra_where_clauses_narrow_reads_and_exports(ledger: Ledger) -> None:
    from audit import audit_ledger

    populate(ledger)
    mine = [audit_ledger.c.actor == "bob"]
    assert seqs(ledger.entries(where=mine)) == [2, 3]
    assert seqs(ledger.entries(record_id=42, where=mine)) == [3]  # not alice's 1
    out = io.StringIO()
    assert ledger.export_jsonl(out, where=mine) == 2
    assert {json.loads(x)["actor"] for x in out.getvalue().splitlines()} == {"bob"}
