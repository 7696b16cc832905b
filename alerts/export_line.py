"""The common line of ``crmguard audit export``, decoded and type-checked in one pass.

A replay reads millions of such lines. Parsing each into a dict and then checking every
field and every record id by hand cost more than the parse itself; msgspec decodes a
line straight into :class:`ExportLine`, checking the types as it goes (an integer or a
string per record id, never a bool or a float), and refuses anything else, which the
replay then reads the slow way (:func:`alerts.replay.event_from_json`), so that what is
wrong with a line is always said in the same words.

Kept out of the compiled modules (``alerts.native``): a msgspec Struct is not a class
mypyc compiles, and the compiled replay reads its attributes as any Python object's.
"""

from __future__ import annotations

from typing import Any

import msgspec


class ExportLine(msgspec.Struct):
    """The fields detection reads; the ledger's own (``request_id``, ``prev_hash``,
    ``hash``) and any other key are skipped unread."""

    ts: str
    actor: str
    action: str
    resource: str
    record_ids: list[int | str]
    count: int
    outcome: str
    channel: str | None
    ip: str | None
    details: dict[str, Any]
    #: kept as it came: the Event takes it only when it is an integer
    seq: Any = None


#: one decoder, reused (building one per line would cost more than the line)
decode = msgspec.json.Decoder(ExportLine).decode

#: a decoded line's fields in their order above, as one tuple: one C call where reading
#: the attributes one by one from the compiled replay costs a lookup each
fields_of = msgspec.structs.astuple

#: what :data:`decode` raises for a line it does not take (not JSON, or not this shape)
REFUSED = (msgspec.ValidationError, msgspec.DecodeError)
