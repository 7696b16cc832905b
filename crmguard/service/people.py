"""Admin operations on people: add a user, change roles and team, deactivate, and hand
every record a leaver owns to a colleague in one step.

Admins manage people without reading client data (separation of duties): these
operations need ``create``/``update``/``manage`` on ``user``, never a grant on contacts;
``reassign_all`` returns counts and ids, never a record's contents. Each operation is
one transaction with its one ledger event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, insert, select, update

import crm_models
from crmguard.auth.schema import auth_sessions, auth_tokens
from crmguard.errors import Conflict, UnknownUser
from crmguard.service.admin import UserSummary
from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase
from crmguard.service.errors import InvalidInput

_USERS = crm_models.resource("user").table
_TEAMS = crm_models.resource("team").table
_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class Reassigned:
    """What ``reassign_all`` moved: record ids per resource, and the ledger entry."""

    from_user: str
    to_user: str
    records: dict[str, list[int]]
    ledger_seq: int

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.records.values())


class PeopleMixin(GuardedBase):
    """list_users, add_user, update_user, deactivate_user, reassign_all."""

    def _team_id(self, conn: Connection, team: str | None) -> int | None:
        if team is None or team == "":
            return None
        found = conn.execute(select(_TEAMS.c.id).where(_TEAMS.c.name == team)).scalar()
        if found is None:
            names = conn.execute(select(_TEAMS.c.name).order_by(_TEAMS.c.name)).scalars().all()
            raise InvalidInput(f"unknown team {team!r} (teams: {', '.join(names) or 'none'})")
        return int(found)

    def _checked_roles(self, roles: Sequence[str]) -> list[str]:
        known = self.access.roles
        bad = sorted(set(roles) - known)
        if bad:
            raise InvalidInput(
                f"unknown role(s) {', '.join(bad)} (roles: {', '.join(sorted(known))})"
            )
        if not roles:
            raise InvalidInput("a user needs at least one role")
        return list(dict.fromkeys(roles))

    def add_user(
        self,
        ctx: RequestContext,
        username: str,
        *,
        display_name: str,
        roles: Sequence[str],
        team: str | None = None,
        email: str = "",
    ) -> UserSummary:
        """Create a user (needs ``create`` on ``user``)."""
        if not 1 <= len(username) <= 64 or not set(username) <= _USERNAME_CHARS:
            raise InvalidInput("username must be 1 to 64 characters of a-z, 0-9, '.', '_' or '-'")
        if not 1 <= len(display_name) <= 200:
            raise InvalidInput("display_name must be 1 to 200 characters")
        checked = self._checked_roles(roles)
        with self.engine.begin() as conn:
            if not ctx.operator:
                self.require(conn, ctx, "create", "user")
            taken = conn.execute(select(_USERS.c.id).where(_USERS.c.username == username)).first()
            if taken is not None:
                raise Conflict(f"username {username!r} is taken")
            now = self.clock()
            conn.execute(
                insert(_USERS).values(
                    username=username,
                    display_name=display_name,
                    email=email,
                    roles=checked,
                    team_id=self._team_id(conn, team),
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            details = {"roles": checked, "team": team}
            self.record(
                self.event(ctx, "user.add", "user", record_ids=[username], details=details), conn
            )
        return UserSummary(username, display_name, tuple(checked), team or None, True, email)

    def update_user(
        self,
        ctx: RequestContext,
        username: str,
        *,
        roles: Sequence[str] | None = None,
        team: str | None = None,
        display_name: str | None = None,
    ) -> UserSummary:
        """Change roles, team (``""`` for none) or display name (needs ``update`` on ``user``).

        The ledger keeps the old and the new values, so a change of rights can be traced.
        """
        values: dict[str, Any] = {}
        if roles is not None:
            values["roles"] = self._checked_roles(roles)
        if display_name is not None:
            if not 1 <= len(display_name) <= 200:
                raise InvalidInput("display_name must be 1 to 200 characters")
            values["display_name"] = display_name
        if not values and team is None:
            raise InvalidInput("nothing to change: give roles, team or display_name")
        with self.engine.begin() as conn:
            if not ctx.operator:
                self.require(conn, ctx, "update", "user")
            before = self._info(conn, username)
            if team is not None:
                values["team_id"] = self._team_id(conn, team)
            conn.execute(
                update(_USERS)
                .where(_USERS.c.username == username)
                .values(**values, updated_at=self.clock())
            )
            after = self._info(conn, username)
            changes = {
                k: {"old": v, "new": after.to_json()[k]}
                for k, v in before.to_json().items()
                if after.to_json()[k] != v
            }
            self.record(
                self.event(
                    ctx, "user.update", "user", record_ids=[username], details={"changes": changes}
                ),
                conn,
            )
        return after

    def deactivate_user(self, ctx: RequestContext, username: str) -> UserSummary:
        """Deactivate a user: every token and session ends in the same transaction."""
        with self.engine.begin() as conn:
            if not ctx.operator:
                self.require(conn, ctx, "manage", "user")
            info = self._info(conn, username)
            user_id = conn.execute(
                select(_USERS.c.id).where(_USERS.c.username == username)
            ).scalar_one()
            conn.execute(
                update(_USERS)
                .where(_USERS.c.id == user_id)
                .values(active=False, updated_at=self.clock())
            )
            # Tokens and sessions end in the same transaction (the per-request check of
            # ``active`` already refuses them; this makes the end permanent on reactivation).
            conn.execute(
                update(auth_tokens)
                .where(auth_tokens.c.user_id == user_id, auth_tokens.c.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )
            conn.execute(
                update(auth_sessions)
                .where(auth_sessions.c.user_id == user_id, auth_sessions.c.ended.is_(False))
                .values(ended=True)
            )
            self.record(self.event(ctx, "user.deactivate", "user", record_ids=[username]), conn)
        return replace(info, active=False)

    def reassign_all(self, ctx: RequestContext, username: str, to: str) -> Reassigned:
        """Hand every record ``username`` owns to ``to`` in one step (needs ``manage`` on
        ``user``): one transaction, one ledger event holding every moved id, so a
        leaver's clients are never lost between two half-done steps."""
        if username == to:
            raise InvalidInput("reassign to a different user")
        moved: dict[str, list[int]] = {}
        with self.engine.begin() as conn:
            if not ctx.operator:
                self.require(conn, ctx, "manage", "user")
            source = self.principal(username)
            target = self.principal(to)
            if not target.active:
                raise InvalidInput(f"{to} is deactivated; reassign to an active colleague")
            now = self.clock()
            for name in crm_models.CLIENT_RESOURCES:
                spec = crm_models.resource(name)
                if spec.owner_field is None:
                    continue
                owner = spec.column(spec.owner_field)
                ids = [
                    int(str(i))
                    for i in conn.execute(
                        select(spec.column("id")).where(owner == source.user_id)
                    ).scalars()
                ]
                if not ids:
                    continue
                conn.execute(
                    update(spec.table)
                    .where(spec.table.c[spec.owner_field] == source.user_id)
                    .values({spec.owner_field: target.user_id, "updated_at": now})
                )
                moved[name] = ids
            record_ids = [f"{name}:{i}" for name, ids in moved.items() for i in ids]
            details = {"from": username, "to": to, "counts": {k: len(v) for k, v in moved.items()}}
            entry = self.record(
                self.event(
                    ctx, "user.reassign_all", "user", record_ids=record_ids, details=details
                ),
                conn,
            )
        return Reassigned(username, to, moved, entry.seq)

    def _info(self, conn: Connection, username: str) -> UserSummary:
        row = conn.execute(
            select(
                _USERS.c.username,
                _USERS.c.display_name,
                _USERS.c.email,
                _USERS.c.roles,
                _USERS.c.active,
                _TEAMS.c.name.label("team"),
            )
            .select_from(_USERS.outerjoin(_TEAMS, _USERS.c.team_id == _TEAMS.c.id))
            .where(_USERS.c.username == username)
        ).first()
        if row is None:
            raise UnknownUser(username)
        return UserSummary(
            row.username,
            row.display_name,
            tuple(row.roles or ()),
            row.team,
            bool(row.active),
            row.email,
        )
