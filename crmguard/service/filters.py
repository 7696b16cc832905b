"""``FIELD=VALUE`` filters from a door (CLI option, query string) into typed values.

Every door that lets a person narrow a list or an export hands the raw text here, so
the typing rules (a whole number for an id, true/false for a flag, ISO dates) and the
messages are the same everywhere. Whether a field may be filtered on at all (it is not
masked for the caller) is decided later, by the read guard, with the decision at hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import crm_models
from crmguard.service.errors import InvalidInput

_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def parse_filters(resource: str, items: Iterable[str]) -> dict[str, Any]:
    """``["owner_id=12", "city=Lyon"]`` -> ``{"owner_id": 12, "city": "Lyon"}``."""
    spec = crm_models.resource(resource)
    out: dict[str, Any] = {}
    for item in items:
        field, sep, raw = item.partition("=")
        field = field.strip()
        if not sep or not field:
            raise InvalidInput(f"filter {item!r} is not FIELD=VALUE (for example city=Lyon)")
        if field not in spec.fields:
            known = ", ".join(spec.fields)
            raise InvalidInput(f"{resource} has no field {field!r} to filter on (fields: {known})")
        if field in out:
            raise InvalidInput(f"field {field!r} is filtered twice; give it once")
        out[field] = _typed(resource, field, raw)
    return out


def _typed(resource: str, field: str, raw: str) -> Any:
    try:
        kind = crm_models.resource(resource).column(field).type.python_type
    except NotImplementedError:
        return raw
    try:
        if kind is bool:
            return _BOOLS[raw.strip().lower()]
        if kind is int:
            return int(raw)
        if kind is Decimal:
            return Decimal(raw)
        if kind is datetime:
            return datetime.fromisoformat(raw)
    except (ValueError, KeyError, InvalidOperation):
        want = {
            bool: "true or false",
            int: "a whole number",
            Decimal: "a number",
            datetime: "an ISO date and time (2026-01-31T09:00)",
        }[kind]
        raise InvalidInput(f"filter {field}={raw!r}: {field} takes {want}") from None
    return raw
