"""The hash chain: canonical encoding of an entry, its public hash and its keyed seal.

Since schema revision ``0002_ledger`` every entry carries two values:

* ``hash = SHA-256(prev_hash + canonical)``: a public chain. Anyone can recompute it,
  so an auditor holding only the checkpoint public key and the signed anchors can prove
  the ledger up to the last anchor without any secret that would let them forge.
* ``mac = HMAC-SHA256(key, "crmguard-ledger-mac" + hash)``: the keyed seal. Only the
  application can make it, so an entry written by someone who edited the database
  (and recomputed the public chain) is caught by whoever holds the MAC key.

Entries written before that revision (``mac`` is NULL) keep their old keyed hash
``HMAC-SHA256(key, prev_hash + canonical)``; they can only come before the first
entry of the public chain, and only the MAC key proves their content.

``canonical`` is
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


def canonical_fields(
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
) -> str:
    """The start of :func:`canonical`, up to ``"seq"``: what does not depend on the place.

    ``seq`` and ``ts`` sort last, so ``canonical_fields(...).encode() +
    canonical_place(seq, ts)`` is byte for byte :func:`canonical`. A writer encodes the
    fields in the caller's thread and only the place under the chain lock. The text is
    also the start of a JSON object with one member per stored column.
    """
    t = _text
    text = (
        f'{{"action":{t(action)},"actor":{t(actor)},"channel":{t(channel)},'
        f'"count":{_number(count)},"details":{details_json},"ip":{t(ip)},'
        f'"outcome":{t(outcome)},"record_ids":{record_ids_json},'
        f'"request_id":{t(request_id)},"resource":{t(resource)},'
    )
    return text


def canonical_place(seq: int, ts_json: str) -> bytes:
    """The end of :func:`canonical`: ``seq`` and ``ts`` (``ts_json`` is its JSON text)."""
    return f'"seq":{_number(seq)},"ts":{ts_json}}}'.encode()


def ts_json(ts: str) -> str:
    """The JSON text of a timestamp as :func:`canonical` writes it (once per batch)."""
    return _text(ts)


def mac(key: bytes, prev_hash: str, body: bytes) -> str:
    """The legacy (schema 0001) keyed hash: HMAC-SHA256 over prev hash and body, hex."""
    return hmac.digest(key, prev_hash.encode("utf-8") + body, hashlib.sha256).hex()


_sha256 = hashlib.sha256
_digest = hmac.digest
SEAL_LABEL = b"crmguard-ledger-mac\n"


def link(prev_hash: str, body: bytes) -> str:
    """The public chain hash: SHA-256 over the previous hash and the canonical body, hex."""
    return _sha256(prev_hash.encode("ascii") + body).hexdigest()


def seal(key: bytes, hash_: str) -> str:
    """The keyed seal over a public chain hash: what only the application can write."""
    return _digest(key, SEAL_LABEL + hash_.encode("ascii"), "sha256").hex()


class Sealer:
    """:func:`seal` for one key, with the HMAC pads hashed once (verification's hot loop).

    HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)); the two keyed prefixes are the
    same for every entry, so their hash states are computed once and copied.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = _sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = _sha256(bytes(b ^ 0x36 for b in key))
        self._inner.update(SEAL_LABEL)
        self._outer = _sha256(bytes(b ^ 0x5C for b in key))

    def __call__(self, hash_: str) -> str:
        inner = self._inner.copy()
        inner.update(hash_.encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()
