"""Check an exported JSON Lines file without the database.

An export may be all an auditor has (a copy archived months ago, a file handed over in
a dispute). With the MAC key alone it proves itself: every line's hash is recomputed
and every line must link to the one before. An export that starts after entry 1 is
trusted from its first line's ``prev_hash`` on, which is what a partial export can show.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from audit.chain import canonical, dumps, mac
from audit.events import GENESIS_HASH, VerifyResult

_FIELDS = (
    "seq", "ts", "actor", "action", "resource", "record_ids", "count", "outcome",
    "channel", "ip", "request_id", "details", "prev_hash", "hash",
)  # fmt: skip


def _line_hash(key: bytes, d: dict[str, Any]) -> str:
    body = canonical(
        d["seq"], d["ts"], d["actor"], d["action"], d["resource"], dumps(d["record_ids"]),
        d["count"], d["outcome"], d["channel"], d["ip"], d["request_id"], dumps(d["details"]),
    )  # fmt: skip
    return mac(key, d["prev_hash"], body)


def verify_export(lines: Iterable[str], mac_key: bytes) -> VerifyResult:
    """Verify an export produced by :meth:`Ledger.export_jsonl`; stops at the first fault."""
    checked = 0
    prev: tuple[int, str] | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if not isinstance(d, dict) or list(d) != list(_FIELDS):
                raise ValueError("wrong keys")
            seq = int(d["seq"])
            recomputed = _line_hash(mac_key, d)
        except (ValueError, TypeError, KeyError):
            bad = prev[0] + 1 if prev else None
            return VerifyResult(False, checked, bad, f"line {number} is not a ledger entry")
        if prev is None and seq == 1 and d["prev_hash"] != GENESIS_HASH:
            return VerifyResult(False, checked, 1, "entry 1 does not start the chain")
        if prev is not None and seq != prev[0] + 1:
            return VerifyResult(
                False, checked, prev[0] + 1, f"entry {prev[0] + 1} is missing from the export"
            )
        if prev is not None and d["prev_hash"] != prev[1]:
            return VerifyResult(
                False, checked, seq, f"entry {seq} does not link to entry {seq - 1}"
            )
        if recomputed != d["hash"]:
            hint = " (or the MAC key is wrong)" if checked == 0 else ""
            return VerifyResult(False, checked, seq, f"entry {seq} does not match its MAC{hint}")
        prev = (seq, d["hash"])
        checked += 1
    return VerifyResult(True, checked, None, None)
