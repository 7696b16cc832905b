"""Guarded exports: the path a client base walks out of the door by.

The rows are read through the scope and masks (a filter on a masked field is refused,
a search skips masked values), counted against the role's cap, and
serialized into memory; the ledger event (with every exported record id) is committed
next; only then is a byte written to the destination. A refused ledger write means
nothing is written at all.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Literal

import crm_models
from crmguard.service.context import RequestContext
from crmguard.service.errors import ExportLimitExceeded, InvalidInput
from crmguard.service.read_guard import ReadGuardMixin

ExportFormat = Literal["csv", "jsonl"]


@dataclass(frozen=True)
class ExportResult:
    """What an export produced: how many rows, and the ledger entry that records it."""

    resource: str
    count: int
    format: str
    ledger_seq: int
    masked_fields: tuple[str, ...]


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def serialize(rows: list[tuple[Any, ...]], fields: tuple[str, ...], fmt: str) -> str:
    """Rows as CSV (with a header) or JSON Lines."""
    buf = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(fields)
        writer.writerows(rows)
    elif fmt == "jsonl":
        dumps = json.dumps
        buf.writelines(
            dumps(dict(zip(fields, row, strict=True)), default=_json_default, ensure_ascii=False)
            + "\n"
            for row in rows
        )
    else:
        raise InvalidInput(f"unknown export format {fmt!r} (use csv or jsonl)")
    return buf.getvalue()


class ExportsMixin(ReadGuardMixin):
    """export."""

    def export(
        self,
        ctx: RequestContext,
        resource: str,
        out: IO[str],
        *,
        fmt: str = "csv",
        filters: Mapping[str, Any] | None = None,
        text: str | None = None,
    ) -> ExportResult:
        """Export every record the user may see (within the cap) to ``out``.

        ``filters`` (field = value) and ``text`` (the search of ``search``) narrow it.
        """
        if fmt not in ("csv", "jsonl"):
            raise InvalidInput(f"unknown export format {fmt!r} (use csv or jsonl)")
        spec = crm_models.resource(resource)
        with self.engine.connect() as conn:
            decision = self.require(conn, ctx, "export", resource)
            self.refuse_masked_query(ctx, decision, filters)
            cap = decision.limit
            rows = list(
                crm_models.iter_records(
                    conn,
                    resource,
                    where=self.scope(decision, ctx),
                    filters=filters,
                    text=text or None,
                    replace=self.masks(decision, ctx),
                    search_in=self.searchable(decision, ctx),
                    limit=None if cap is None else cap + 1,
                )
            )
        if cap is not None and len(rows) > cap:
            raise self.deny(
                ctx,
                decision,
                details={"reason": "export row cap exceeded", "cap": cap, "requested": f">{cap}"},
                error=ExportLimitExceeded(ctx.principal.username, resource, cap),
            )
        payload = serialize(rows, spec.fields, fmt)
        ids = [row[0] for row in rows]
        details: dict[str, Any] = {"format": fmt, "bytes": len(payload)}
        if filters:
            details["filters"] = dict(filters)
        if text:
            details["text"] = text
        if decision.masked_fields:
            details["masked"] = list(decision.masked_fields)
        entry = self.record(self.event(ctx, "export", resource, record_ids=ids, details=details))
        out.write(payload)
        out.flush()
        return ExportResult(resource, len(ids), fmt, entry.seq, decision.masked_fields)
