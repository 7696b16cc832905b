"""What a ledger reader may see of the client data an entry carries.

The ledger keeps what happened in full, because it is the evidence and its hash chain
covers every byte: a create keeps the record's values, an update the old and new value of
each changed field, a delete the values it removed, and searches, lists and exports the
search text and filter values the user typed. Reading the ledger must not become a way
around the field masks and the record permissions: an auditor who may read the whole
ledger but may not open a contact would otherwise read every contact's e-mail in the
``update`` events, and a support agent whose role masks phones would read them in their
colleagues' history.

So ``audit log`` (and every other read of entries through the service) shows the client
data of an entry only as the reader could see it on the record itself:

* a field's value is shown when the reader's role may ``view`` the entry's resource and
  the field is not masked for that role (masks lifted on some rows only count as masked:
  the entry does not say which row scope applied, so this fails closed);
* search text is shown when the reader may view the resource with nothing masked (text
  is matched against every searchable field, so it may be a masked value), or when the
  reader typed it (the entry is their own);
* the field names, counts, record ids and everything else stay, so "who changed what,
  when" is answered for every reader in scope.

The export of the ledger (``audit export``) is the evidence file an outside auditor
verifies against the anchors; it cannot be redacted and still verify, so it carries the
values in full and is its own permission (``export`` on ``audit``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from access import Decision
from audit import LedgerEntry

#: What a hidden value reads as (the same word the record masks use).
HIDDEN = "[masked]"

#: Detail keys holding a record's values by field: ``{field: value}``.
_VALUE_MAPS = ("values", "deleted", "filters")


def reveal(entry: LedgerEntry, reader: str, view: Callable[[str], Decision | None]) -> LedgerEntry:
    """``entry`` with the client data ``reader`` may not see replaced by ``[masked]``.

    ``view(resource)`` is the reader's ``view`` decision on a resource, or None for the
    home's operator (who sees everything). Entries that carry no client data come back
    unchanged (the same object).
    """
    details = entry.details
    if not details or not any(
        key in details for key in ("values", "deleted", "filters", "changes", "text")
    ):
        return entry
    decision = view(entry.resource)
    if decision is None:
        return entry
    allowed = decision.allowed
    masked = frozenset(decision.masked_fields)

    def shown(field: str) -> bool:
        return allowed and field not in masked

    out = dict(details)
    changed = False
    for key in _VALUE_MAPS:
        value = details.get(key)
        if isinstance(value, Mapping):
            hidden = _hide_fields(value, shown)
            if hidden is not value:
                out[key], changed = hidden, True
        elif key in details and value is not None and not allowed:
            out[key], changed = HIDDEN, True
    diff = details.get("changes")
    if isinstance(diff, Mapping):
        hidden_diff = {
            field: change if shown(str(field)) else _hide_change(change)
            for field, change in diff.items()
        }
        if hidden_diff != dict(diff):
            out["changes"], changed = hidden_diff, True
    text = details.get("text")
    if text is not None and entry.actor != reader and not (allowed and not masked):
        out["text"], changed = HIDDEN, True
    return replace(entry, details=out) if changed else entry


def _hide_fields(values: Mapping[str, Any], shown: Callable[[str], bool]) -> Mapping[str, Any]:
    """The mapping with every field not shown masked; the same object when nothing is."""
    if all(shown(str(field)) for field in values):
        return values
    return {
        field: value if shown(str(field)) or value is None else HIDDEN
        for field, value in values.items()
    }


def _hide_change(change: Any) -> Any:
    """``{"old": ..., "new": ...}`` with both sides masked (the field name stays)."""
    if isinstance(change, Mapping):
        return {side: HIDDEN if v is not None else None for side, v in change.items()}
    return HIDDEN
