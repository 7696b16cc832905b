"""The hash chain: canonical encoding of an entry and its keyed hash.

``hash = HMAC-SHA256(key, prev_hash + canonical)`` where ``canonical`` is
``json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of the
fixed dict ``{seq, ts, actor, action, resource, record_ids, count, outcome, channel, ip,
request_id, details}``.

``record_ids`` and ``details`` are stored as their canonical JSON text. Because
``sort_keys`` applies at every depth, splicing that stored text into the outer object
gives byte-for-byte the same result as dumping the whole dict, so verification never
has to parse (and re-dump) an export event's 100,000 record ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from audit.errors import InvalidEvent

# One encoder, built once: json.dumps with non-default options builds a new encoder
# on every call, which would dominate the cost of verifying a row.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_encode_str = json.encoder.encode_basestring  # what the encoder does for a str


def dumps(value: Any) -> str:
    """Canonical JSON text of a value (the encoding that is hashed and stored)."""
    return _ENCODER.encode(value)


def _text(value: Any) -> str:
    if type(value) is str:
        return _encode_str(value)
    return "null" if value is None else _ENCODER.encode(value)


def _number(value: Any) -> str:
    return str(value) if type(value) is int else _ENCODER.encode(value)


def encode_record_ids(record_ids: Sequence[int | str]) -> str:
    """Canonical JSON list of record ids; only ints and strings are ids."""
    for rid in record_ids:
        if isinstance(rid, bool) or not isinstance(rid, int | str):
            raise InvalidEvent(f"record ids must be integers or strings, not {type(rid).__name__}")
    return dumps(list(record_ids))


def encode_details(details: Mapping[str, Any]) -> str:
    """Canonical JSON object of the details; refuses what JSON cannot hold exactly."""
    try:
        return dumps(dict(details))
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"event details must be plain JSON values ({exc})") from None


def canonical(
    seq: int,
    ts: str,
    actor: str,
    action: str,
    resource: str,
    record_ids_json: str,
    count: int,
    outcome: str,
    channel: str,
    ip: str | None,
    request_id: str | None,
    details_json: str,
) -> bytes:
    """The canonical encoding, keys in sorted order, with the two JSON texts spliced in."""
    t = _text
    text = (
        f'{{"action":{t(action)},"actor":{t(actor)},"channel":{t(channel)},'
        f'"count":{_number(count)},"details":{details_json},"ip":{t(ip)},'
        f'"outcome":{t(outcome)},"record_ids":{record_ids_json},'
        f'"request_id":{t(request_id)},"resource":{t(resource)},"seq":{_number(seq)},'
        f'"ts":{t(ts)}}}'
    )
    return text.encode("utf-8")


def mac(key: bytes, prev_hash: str, body: bytes) -> str:
    """HMAC-SHA256 over the previous hash and the canonical body, as lowercase hex."""
    return hmac.digest(key, prev_hash.encode("utf-8") + body, hashlib.sha256).hex()
