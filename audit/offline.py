"""Check an exported JSON Lines file without the database, and without any secret.

An export may be all an auditor has (a copy archived months ago, a file handed over in
a dispute). Every line's public hash is recomputed and every line must link to the one
before; the signed anchors then say up to where that chain is the one the application
wrote. An export that starts after entry 1 is trusted from its first line's
``prev_hash`` on, which is what a partial export can show. Lines written before the
public chain existed (schema 0001) are proven only with the MAC key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from audit.chain import canonical, dumps, link, mac
from audit.events import GENESIS_HASH, VerifyResult, Vouch

_FIELDS = (
    "seq", "ts", "actor", "action", "resource", "record_ids", "count", "outcome",
    "channel", "ip", "request_id", "details", "prev_hash", "hash",
)  # fmt: skip


def _body(d: dict[str, Any]) -> bytes:
    return canonical(
        d["seq"], d["ts"], d["actor"], d["action"], d["resource"], dumps(d["record_ids"]),
        d["count"], d["outcome"], d["channel"], d["ip"], d["request_id"], dumps(d["details"]),
    )  # fmt: skip


def _bad(checked: int, seq: int | None, problem: str, kind: Any, last: int) -> VerifyResult:
    return VerifyResult(False, checked, seq, problem, kind, None, last)


def verify_export(
    lines: Iterable[str], mac_key: bytes | None = None, vouches: Sequence[Vouch] = ()
) -> VerifyResult:
    """Verify an export made by :meth:`Ledger.export_jsonl`; stops at the first fault.

    ``vouches`` are anchors (already signature-checked): each entry they name must be in
    the file with that hash, and none may name an entry past its last line.
    """
    vouched: dict[int, list[Vouch]] = {}
    for v in vouches:
        vouched.setdefault(v.seq, []).append(v)
    checked, legacy, public_seen = 0, 0, False
    prev: tuple[int, str] | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        last = prev[0] if prev else 0
        try:
            d = json.loads(line)
            if not isinstance(d, dict) or list(d) != list(_FIELDS):
                raise ValueError("wrong keys")
            seq = int(d["seq"])
            body = _body(d)
        except (ValueError, TypeError, KeyError):
            bad = prev[0] + 1 if prev else None
            return _bad(checked, bad, f"line {number} is not a ledger entry", "altered", last)
        if prev is None and seq == 1 and d["prev_hash"] != GENESIS_HASH:
            return _bad(checked, 1, "entry 1 does not start the chain", "deleted", last)
        if prev is not None and seq != prev[0] + 1:
            return _bad(
                checked, prev[0] + 1, f"entry {prev[0] + 1} is missing from the export",
                "deleted", last,
            )  # fmt: skip
        if prev is not None and d["prev_hash"] != prev[1]:
            return _bad(
                checked, seq, f"entry {seq} does not link to entry {seq - 1}", "reordered", last
            )
        if link(d["prev_hash"], body) == d["hash"]:
            public_seen = True
        elif public_seen:
            return _bad(
                checked, seq, f"entry {seq} does not match its hash: altered", "altered", last
            )
        elif mac_key is None:
            legacy += 1  # schema 0001 entry: checked for links only
        elif mac(mac_key, d["prev_hash"], body) != d["hash"]:
            hint = " (or the MAC key is wrong)" if checked == 0 else ""
            return _bad(checked, seq, f"entry {seq} does not match its MAC{hint}", "altered", last)
        for v in vouched.get(seq, ()):
            if v.hash != d["hash"]:
                return _bad(
                    checked, seq,
                    f"entry {seq} differs from what {v.source} vouches for: rewritten",
                    "rewritten", last,
                )  # fmt: skip
        prev = (seq, d["hash"])
        checked += 1
    last = prev[0] if prev else 0
    beyond = [v for v in vouches if v.seq > last]
    if beyond:
        top = max(beyond, key=lambda v: v.seq)
        return _bad(
            checked, last + 1,
            f"the export ends at entry {last} but {top.source} vouches for entry {top.seq}: "
            "entries are missing from its end", "truncated", last,
        )  # fmt: skip
    anchored = max((v.seq for v in vouches), default=None)
    notes = (
        (f"{legacy} entries predate the public chain: only the MAC key proves their content",)
        if legacy
        else ()
    )
    return VerifyResult(True, checked, None, None, None, anchored, last, notes)
