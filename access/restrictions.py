"""Temporary or open-ended restrictions on a user: suspend, freeze exports, departing.

They are stored rows, not policy lines, because they are operational: security or an
admin places them in response to an event and lifts them later, without a policy review.
Functions take a SQLAlchemy ``Connection``; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from access.errors import RestrictionError, RestrictionNotFound, UnknownRestrictionKind
from access.schema import access_restrictions as t
from access.vocabulary import RESTRICTION_KINDS

log = structlog.get_logger()


def _utc(value: datetime | None) -> datetime | None:
    """Aware UTC; SQLite hands back naive datetimes that were stored as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now(now: datetime | None) -> datetime:
    value = _utc(now) if now is not None else datetime.now(UTC)
    assert value is not None
    return value


@dataclass(frozen=True)
class Restriction:
    """One restriction; ``expires_at`` makes it temporary, ``lifted_at`` ends it early."""

    id: int
    username: str
    kind: str
    reason: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    lifted_at: datetime | None = None
    lifted_by: str | None = None

    def active_at(self, now: datetime) -> bool:
        """True while neither lifted nor expired at ``now``."""
        at = _now(now)
        if self.lifted_at is not None and self.lifted_at <= at:
            return False
        return self.expires_at is None or at < self.expires_at

    def to_json(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return v.isoformat() if v is not None else None

        return {
            "id": self.id,
            "username": self.username,
            "kind": self.kind,
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "lifted_at": iso(self.lifted_at),
            "lifted_by": self.lifted_by,
        }


def _from_row(row: Any) -> Restriction:
    created = _utc(row.created_at)
    assert created is not None
    return Restriction(
        id=row.id,
        username=row.username,
        kind=row.kind,
        reason=row.reason,
        created_by=row.created_by,
        created_at=created,
        expires_at=_utc(row.expires_at),
        lifted_at=_utc(row.lifted_at),
        lifted_by=row.lifted_by,
    )


def add_restriction(
    conn: Connection,
    username: str,
    kind: str,
    *,
    reason: str,
    created_by: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> Restriction:
    """Place a restriction on ``username``; takes effect on that user's next request."""
    if kind not in RESTRICTION_KINDS:
        raise UnknownRestrictionKind(kind, RESTRICTION_KINDS)
    created = _now(now)
    expires = _utc(expires_at)
    if expires is not None and expires <= created:
        raise RestrictionError(
            f"expiry {expires.isoformat()} is not after now ({created.isoformat()}); "
            "give a future time or none"
        )
    values = {
        "username": username,
        "kind": kind,
        "reason": reason,
        "created_by": created_by,
        "created_at": created,
        "expires_at": expires,
    }
    new_id = conn.execute(t.insert().values(**values).returning(t.c.id)).scalar_one()
    log.info("access.restriction_added", restriction_id=new_id, kind=kind)
    return Restriction(id=int(new_id), **values)  # type: ignore[arg-type]


def lift_restriction(
    conn: Connection, restriction_id: int, *, lifted_by: str, now: datetime | None = None
) -> Restriction:
    """End a restriction early; lifting one already lifted is an error (nothing to do)."""
    row = conn.execute(select(t).where(t.c.id == restriction_id)).first()
    if row is None:
        raise RestrictionNotFound(restriction_id)
    current = _from_row(row)
    if current.lifted_at is not None:
        raise RestrictionError(
            f"restriction {restriction_id} was already lifted by {current.lifted_by} "
            f"at {current.lifted_at.isoformat()}"
        )
    at = _now(now)
    conn.execute(
        t.update().where(t.c.id == restriction_id).values(lifted_at=at, lifted_by=lifted_by)
    )
    log.info("access.restriction_lifted", restriction_id=restriction_id, kind=current.kind)
    return replace(current, lifted_at=at, lifted_by=lifted_by)


def active_restrictions(
    conn: Connection, username: str, now: datetime | None = None
) -> tuple[Restriction, ...]:
    """Restrictions in force for ``username`` at ``now`` (default: the current time).

    Expiry is checked in Python on aware datetimes, so SQLite's naive storage and
    PostgreSQL's timestamptz behave the same.
    """
    at = _now(now)
    rows = conn.execute(_ACTIVE, {"username": username})
    return tuple(r for r in map(_from_row, rows) if r.active_at(at))


#: Built once: this runs on every request, and building the statement cost more than
#: running it.
_ACTIVE = (
    select(t).where(t.c.username == bindparam("username"), t.c.lifted_at.is_(None)).order_by(t.c.id)
)


def list_restrictions(conn: Connection, username: str | None = None) -> tuple[Restriction, ...]:
    """Every restriction ever placed (optionally for one user), newest first."""
    stmt = select(t).order_by(t.c.id.desc())
    if username is not None:
        stmt = stmt.where(t.c.username == username)
    return tuple(_from_row(r) for r in conn.execute(stmt))
