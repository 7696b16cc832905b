"""Values the authentication operations hand back: new tokens, token listings, sessions,
and who a request's credentials prove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from access import Principal
from crmguard.auth.secrets import hash_secret


@dataclass(frozen=True)
class CreatedToken:
    """A new API token: ``token`` is shown once and never stored."""

    id: int
    token: str
    expires_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        expires = self.expires_at.isoformat() if self.expires_at else None
        return {"id": self.id, "token": self.token, "expires_at": expires}


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a token without its secret."""

    id: int
    username: str
    name: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "last_used_at": iso(self.last_used_at),
        }


@dataclass(frozen=True)
class SignedIn:
    """A session: ``session_id`` goes into a cookie, ``csrf_token`` into a page."""

    session_id: str
    csrf_token: str
    expires_at: datetime
    principal: Principal


@dataclass(frozen=True)
class Authenticated:
    """Who a request's credentials prove, and how (``token`` or ``session``)."""

    principal: Principal
    method: str
    session_id: str | None = None


def csrf_token_for(session_id: str) -> str:
    """The CSRF token of a session: derived from the session id, which a foreign page
    cannot read, so a forged cross-site request cannot carry it."""
    return hash_secret("csrf:" + session_id)


def aware(value: datetime | None) -> datetime | None:
    """Aware UTC; SQLite hands back naive datetimes that were stored as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
