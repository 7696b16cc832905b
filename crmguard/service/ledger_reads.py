"""Guarded reads of the ledger itself: reading or exporting the ledger is an event too.

Owners and auditors ask "who looked at client X?" and "what did the departing manager
take?"; both answers come from here, and the asking is recorded like any other read.

The ledger is scoped like any other resource, with the same SQL scope rule: ``own`` is
the reader's own events (actor = the reader), ``team`` the events of the reader's team
members, ``all`` everything. The scope is a WHERE clause on the ledger's ``actor``, so
log, "who viewed", activity and export can never return more than the decision grants,
whatever the filters say. Exporting the ledger is its own decision (``export`` on
``audit``), with its own scope and cap. The home's operator (the CLI without ``--as``)
reads everything, and is recorded as ``operator:<os user>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any

from sqlalchemy import ColumnElement, select

import crm_models
from access import ACTIONS as POLICY_ACTIONS
from access import RESOURCES as POLICY_RESOURCES
from access import Decision
from audit import (
    CHANNELS,
    OUTCOMES,
    LedgerEntry,
    LedgerWriteError,
    VerifyResult,
    Vouch,
    audit_ledger,
)
from backup import Store
from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase
from crmguard.service.errors import ExportLimitExceeded, InvalidInput
from crmguard.service.ledger_content import reveal

#: Event actions written by the rooms besides the policy's own actions (see docs/audit.md).
LEDGER_ACTIONS: frozenset[str] = frozenset(
    {
        *POLICY_ACTIONS,
        "act_as",
        "access.check",
        "access.explain",
        "policy.reload",
        "backup.run",
        "backup.verify",
        "backup.drill",
        "backup.prune",
        "backup.restore",
        "backup.overdue",
        "alert.raise",
        "alert.ack",
        "alert.resolve",
        "alert.false_positive",
    }
)

#: Event resources besides the policy's resources.
LEDGER_RESOURCES: frozenset[str] = frozenset(
    {*POLICY_RESOURCES, "policy", "backup", "alert", "restriction"}
)


@dataclass(frozen=True)
class RecordRef:
    """One record as the ledger names it: ``contact:42``, ``user:ivan.petrov``."""

    resource: str
    record_id: int | str

    @classmethod
    def parse(cls, text: str) -> RecordRef:
        """``RESOURCE:ID``; anything else is refused with the forms that work."""
        resource, sep, raw = text.partition(":")
        resource, raw = resource.strip(), raw.strip()
        if not sep or not resource or not raw:
            raise InvalidInput(
                f"record {text!r} must be RESOURCE:ID, e.g. contact:42, company:12 or "
                f"user:ivan.petrov (resources: {', '.join(sorted(LEDGER_RESOURCES))})"
            )
        return cls(resource, int(raw) if raw.isdigit() else raw)

    def __str__(self) -> str:
        return f"{self.resource}:{self.record_id}"


@dataclass(frozen=True)
class LedgerPage:
    """Entries a ledger read returned, and whether ``limit`` cut the answer short."""

    entries: tuple[LedgerEntry, ...]
    truncated: bool
    limit: int | None
    #: The reader's ledger scope: own, team or all (the operator reads all).
    scope: str

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


class LedgerReadsMixin(GuardedBase):
    """audit_entries, audit_export, audit_verify."""

    def audit_entries(
        self,
        ctx: RequestContext,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        resource: str | None = None,
        record: RecordRef | str | None = None,
        outcome: str | None = None,
        channel: str | None = None,
        limit: int | None = 1000,
        newest_first: bool = True,
        archive: Store | None = None,
    ) -> LedgerPage:
        """Ledger entries in the reader's scope matching the filters (needs ``audit.read``).

        ``record`` (``contact:42``) finds every event that disclosed that record: events
        of that resource listing the id, and events of other resources listing it
        qualified (a company included in a contact's view). Unknown actions, resources
        and outcomes are refused rather than answered with "nothing found".

        With ``archive`` (the store ``audit archive`` moved old entries to) the archived
        segments are searched too, each checked against its signed manifest, with the
        same scope: the actors in scope are read once and archived entries kept by name.
        """
        ref = RecordRef.parse(record) if isinstance(record, str) else record
        self._check_filters(action, resource, outcome)
        if channel is not None and channel not in CHANNELS:
            raise InvalidInput(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
        if ref is not None and not self._known(ref.resource, LEDGER_RESOURCES, "resource"):
            raise InvalidInput(
                f"unknown resource {ref.resource!r} in record {str(ref)!r} "
                f"(known: {', '.join(sorted(LEDGER_RESOURCES))})"
            )
        if limit is not None and limit < 1:
            raise InvalidInput(f"limit must be at least 1, not {limit}")
        decision = self._authorize(ctx, "audit.read")
        where = self._ledger_scope(decision, ctx)
        keep = self._archive_scope(decision, ctx) if archive is not None and where else None
        found = list(
            self.ledger.entries(
                since,
                until,
                actor=actor,
                action=action,
                resource=resource,
                record_id=ref.record_id if ref else None,
                record_resource=ref.resource if ref else None,
                outcome=outcome,  # type: ignore[arg-type]
                channel=channel,
                limit=None if limit is None else limit + 1,
                newest_first=newest_first,
                where=where,
                archive_reader=archive.get_bytes if archive is not None else None,
                archive_keep=keep,
            )
        )
        truncated = limit is not None and len(found) > limit
        entries = self._revealed(ctx, found[:limit] if limit is not None else found)
        query = {
            "since": since,
            "until": until,
            "actor": actor,
            "action": action,
            "resource": resource,
            "record": ref,
            "outcome": outcome,
            "channel": channel,
            "archive": archive.describe() if archive is not None else None,
        }
        scope = _scope_name(decision, ctx)
        details: dict[str, Any] = {
            "query": {k: str(v) for k, v in query.items() if v is not None},
            "returned": len(entries),
            "scope": scope,
        }
        if truncated:
            details["truncated_at"] = limit
        self.record(self.event(ctx, "audit.read", "audit", count=len(entries), details=details))
        return LedgerPage(entries, truncated, limit, scope)

    def audit_export(
        self,
        ctx: RequestContext,
        out: IO[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """Export the ledger in the reader's export scope as JSON Lines; returns the count.

        Needs ``export`` on ``audit`` (auditors and security in the shipped policy), not
        only ``audit.read``. The export event (action ``export``, resource ``audit``) is
        appended first, so an export that includes the reader's events includes itself.
        """
        decision = self._authorize(ctx, "export")
        where = self._ledger_scope(decision, ctx)
        cap = None if decision is None else decision.limit
        if decision is not None and cap is not None:
            matching = self.ledger.entries(since, until, limit=cap + 1, where=where)
            if sum(1 for _ in matching) > cap:
                raise self.deny(
                    ctx,
                    decision,
                    details={"reason": "export row cap exceeded", "cap": cap},
                    error=ExportLimitExceeded(ctx.principal.username, "audit", cap),
                )
        details = {
            "kind": "export",
            "since": str(since) if since else None,
            "until": str(until) if until else None,
            "scope": _scope_name(decision, ctx),
        }
        self.record(self.event(ctx, "export", "audit", details=details))
        return self.ledger.export_jsonl(out, since, until, where=where)

    def audit_verify(
        self,
        ctx: RequestContext,
        *,
        vouches: Sequence[Vouch] = (),
        progress: Callable[[int], None] | None = None,
        index: bool = False,
    ) -> VerifyResult:
        """Walk the whole chain against what ``vouches`` remember (anchors, backups);
        needs ``audit.read``. The verification is recorded afterwards. ``index`` also
        compares the record index ("who viewed") with the entries: the deep check,
        for readers of the whole ledger only (it costs several walks of it).

        A chain can only be proven whole, so every reader gets the verdict on the whole
        chain, whatever their scope. The verdict names positions (``checked``,
        ``first_bad_seq``) and the kind of fault, never an actor, a record or a detail,
        so a reader with ``own`` scope learns whether the ledger is intact without
        seeing anyone else's events.
        """
        decision = self._authorize(ctx, "audit.read")
        if index and decision is not None:
            # the deep check costs several walks of the whole ledger: for those who read
            # all of it (owners, security), not a load any employee can start at will
            self.require_all(ctx, decision, "the deep check (index) reads the whole ledger")
        result = self.ledger.verify(progress, vouches, index=index)
        event = self.event(
            ctx,
            "audit.read",
            "audit",
            count=result.checked,
            details={
                "kind": "verify",
                "scope": _scope_name(decision, ctx),
                "index": index,
                **result.to_json(),
            },
        )
        try:
            self.record(event)
        except LedgerWriteError as exc:
            if result.ok:
                raise  # fail closed: an unrecorded read returns nothing
            # A ledger found tampered with (its table dropped, say) may refuse the record
            # of that finding too; the finding itself must still reach the person asking.
            return replace(result, notes=(*result.notes, f"this check was not recorded: {exc}"))
        return result

    # -- private steps ---------------------------------------------------------------

    def _revealed(
        self, ctx: RequestContext, found: Sequence[LedgerEntry]
    ) -> tuple[LedgerEntry, ...]:
        """The entries with the client data the reader may not see masked
        (:mod:`crmguard.service.ledger_content`); the operator sees them whole."""
        if ctx.operator:
            return tuple(found)
        views: dict[str, Decision | None] = {}

        def view(resource: str) -> Decision | None:
            if resource not in crm_models.RESOURCES:
                return None  # no record fields: backups, policy, alerts, the ledger
            if resource not in views:
                with self.engine.connect() as conn:
                    views[resource] = self.decide_in(conn, ctx, "view", resource)
            return views[resource]

        reader = ctx.principal.username
        return tuple(reveal(entry, reader, view) for entry in found)

    def _authorize(self, ctx: RequestContext, action: str) -> Decision | None:
        """The reader's decision; None for the home's operator (reads all, recorded)."""
        if ctx.operator:
            return None
        with self.engine.connect() as conn:
            return self.require(conn, ctx, action, "audit")

    def _ledger_scope(
        self, decision: Decision | None, ctx: RequestContext
    ) -> list[ColumnElement[bool]]:
        """The decision's scope on the ledger: the actors whose events the reader may see.

        The same rule as every CRM read (:meth:`access.AccessControl.scope_clause`),
        applied to the users table: the usernames of the users in scope.
        """
        if decision is None or decision.scope == "all":
            return []
        users = crm_models.User.__table__
        in_scope = select(users.c.username).where(
            self.access.scope_clause(decision, ctx.principal, owner_column=users.c.id)
        )
        return [audit_ledger.c.actor.in_(in_scope)]

    def _archive_scope(
        self, decision: Decision | None, ctx: RequestContext
    ) -> Callable[[LedgerEntry], bool]:
        """The ledger scope as a test on an archived entry's actor (archived lines are
        matched in Python): the same users :meth:`_ledger_scope` selects in SQL."""
        users = crm_models.User.__table__
        stmt = select(users.c.username)
        if decision is not None and decision.scope != "all":
            stmt = stmt.where(
                self.access.scope_clause(decision, ctx.principal, owner_column=users.c.id)
            )
        with self.engine.connect() as conn:
            allowed = frozenset(str(name) for name in conn.execute(stmt).scalars())
        return lambda entry: entry.actor in allowed

    def _check_filters(self, action: str | None, resource: str | None, outcome: str | None) -> None:
        """Refuse a filter that can never match: "no events" would mislead the reader."""
        if outcome is not None and outcome not in OUTCOMES:
            raise InvalidInput(f"unknown outcome {outcome!r} (known: {', '.join(OUTCOMES)})")
        if action is not None and not self._known(action, LEDGER_ACTIONS, "action"):
            raise InvalidInput(
                f"unknown action {action!r} (known: {', '.join(sorted(LEDGER_ACTIONS))})"
            )
        if resource is not None and not self._known(resource, LEDGER_RESOURCES, "resource"):
            raise InvalidInput(
                f"unknown resource {resource!r} (known: {', '.join(sorted(LEDGER_RESOURCES))})"
            )

    def _known(self, value: str, vocabulary: frozenset[str], column: str) -> bool:
        """In the vocabulary, or written by a room this version does not list yet."""
        if value in vocabulary:
            return True
        col = audit_ledger.c[column]
        with self.engine.connect() as conn:
            return conn.execute(select(col).where(col == value).limit(1)).first() is not None


def _scope_name(decision: Decision | None, ctx: RequestContext) -> str:
    if decision is None or ctx.operator:
        return "all"
    return decision.scope
