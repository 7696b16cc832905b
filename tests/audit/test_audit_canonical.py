"""The spliced canonical encoding equals json.dumps of the whole dict, for any content."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.chain import canonical, dumps

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    seq=st.integers(min_value=1),
    strings=st.lists(st.text(), min_size=6, max_size=6),
    ip=st.none() | st.text(),
    record_ids=st.lists(st.integers() | st.text(), max_size=8),
    count=st.integers(min_value=0),
    details=st.dictionaries(st.text(), json_values, max_size=5),
)
def test_splice_matches_the_contract(
    seq: int,
    strings: list[str],
    ip: str | None,
    record_ids: list[int | str],
    count: int,
    details: dict[str, object],
) -> None:
    ts, actor, action, resource, outcome, request_id = strings
    whole = {
        "seq": seq, "ts": ts, "actor": actor, "action": action, "resource": resource,
        "record_ids": record_ids, "count": count, "outcome": outcome, "channel": outcome,
        "ip": ip, "request_id": request_id, "details": details,
    }  # fmt: skip
    expected = json.dumps(whole, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    got = canonical(
        seq, ts, actor, action, resource, dumps(record_ids), count, outcome, outcome, ip,
        request_id, dumps(details),
    )  # fmt: skip
    assert got == expected.encode("utf-8")
