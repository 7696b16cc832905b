"""Authentication operations: passwords, TOTP, API tokens, sessions, sign-in limits.

One :class:`Authenticator` serves both doors. The CLI uses it to set passwords and issue
tokens; the HTTP API uses it to turn a bearer token or a session cookie into a
principal on every request. Every check happens per request, against the database: a
user who is deactivated or suspended loses every token and session at once, with no
cache to wait out. Sign-ins, failed sign-ins, rejected credentials, token creation and
revocation are ledger events; failed sign-ins are counted in the database so that
several instances behind one balancer throttle together.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

import crm_models
from access import SUSPENDED, Principal, active_restrictions
from crmguard.auth import (
    PasswordHasher,
    auth_credentials,
    auth_failures,
    auth_sessions,
    auth_tokens,
    hash_secret,
    new_secret,
    new_totp_secret,
    totp_uri,
    verify_totp,
)
from crmguard.auth.values import (
    Authenticated,
    CreatedToken,
    SignedIn,
    TokenInfo,
    aware,
    csrf_token_for,
)
from crmguard.errors import NotAuthenticated, SignInThrottled, UnknownUser
from crmguard.service.context import Channel, RequestContext
from crmguard.service.core import GuardedBase
from crmguard.service.errors import InvalidInput
from crmguard.settings_api import ApiSettings

_USERS = crm_models.User.__table__
_MIN_PASSWORD = 12
_MAX_PASSWORD = 1024
#: A session's ``last_seen_at`` is written at most this often (one write per minute,
#: not one per request); the idle limit is in minutes, so nothing is lost.
_TOUCH_EVERY = timedelta(seconds=60)
_UNAUTHENTICATED = "missing, wrong, expired or revoked credentials, or an inactive account"


class Authenticator:
    """Passwords, TOTP, tokens, sessions and sign-in limits over one guarded CRM."""

    def __init__(
        self,
        crm: GuardedBase,
        settings: ApiSettings | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.crm = crm
        self.settings = settings or ApiSettings()
        self.hasher = hasher or PasswordHasher()

    # -- who may manage whose credentials -------------------------------------------

    def _may_manage(self, conn: Connection, ctx: RequestContext, username: str) -> None:
        """The operator, the user themself, or whoever may ``manage`` users."""
        if ctx.operator or ctx.principal.username == username:
            return
        self.crm.require(conn, ctx, "manage", "user")

    def _user_row(self, conn: Connection, username: str) -> Any:
        row = conn.execute(
            select(_USERS.c.id, _USERS.c.username, _USERS.c.active).where(
                _USERS.c.username == username
            )
        ).first()
        if row is None:
            raise UnknownUser(username)
        return row

    def _record(
        self,
        ctx: RequestContext,
        action: str,
        username: str,
        *,
        outcome: str = "allowed",
        details: dict[str, Any] | None = None,
        conn: Connection | None = None,
    ) -> None:
        event = self.crm.event(
            ctx, action, "user", record_ids=[username], outcome=outcome, details=details
        )
        self.crm.record(event, conn)

    # -- passwords and TOTP -------------------------------------------------------------

    def set_password(self, ctx: RequestContext, username: str, password: str) -> None:
        """Store an Argon2id hash of ``password`` for ``username``."""
        if not _MIN_PASSWORD <= len(password) <= _MAX_PASSWORD:
            raise InvalidInput(
                f"password must be {_MIN_PASSWORD} to {_MAX_PASSWORD} characters long"
            )
        hashed = self.hasher.hash(password)
        with self.crm.engine.begin() as conn:
            self._may_manage(conn, ctx, username)
            user = self._user_row(conn, username)
            now = self.crm.clock()
            done = conn.execute(
                update(auth_credentials)
                .where(auth_credentials.c.user_id == user.id)
                .values(password_hash=hashed, updated_at=now)
            ).rowcount
            if not done:
                conn.execute(
                    insert(auth_credentials).values(
                        user_id=user.id, password_hash=hashed, updated_at=now
                    )
                )
            self._record(ctx, "auth.password", username, conn=conn)

    def enrol_totp(self, ctx: RequestContext, username: str) -> tuple[str, str]:
        """Give ``username`` a new TOTP secret; returns (secret, otpauth URI) once."""
        secret = new_totp_secret()
        with self.crm.engine.begin() as conn:
            self._may_manage(conn, ctx, username)
            user = self._user_row(conn, username)
            done = conn.execute(
                update(auth_credentials)
                .where(auth_credentials.c.user_id == user.id)
                .values(totp_secret=secret, updated_at=self.crm.clock())
            ).rowcount
            if not done:
                raise InvalidInput(f"{username} has no password yet: set one first")
            self._record(ctx, "auth.totp", username, conn=conn)
        return secret, totp_uri(secret, username)

    # -- tokens -------------------------------------------------------------------------

    def create_token(
        self, ctx: RequestContext, username: str, name: str, expires_in_days: int | None = None
    ) -> CreatedToken:
        """Issue an API token for ``username``; only its hash is stored."""
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise InvalidInput("token name must be 1 to 100 characters")
        if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
            raise InvalidInput("expires-in-days must be between 1 and 3650")
        token = new_secret()
        now = self.crm.clock()
        expires = now + timedelta(days=expires_in_days) if expires_in_days else None
        with self.crm.engine.begin() as conn:
            self._may_manage(conn, ctx, username)
            user = self._user_row(conn, username)
            token_id = conn.execute(
                insert(auth_tokens)
                .values(
                    user_id=user.id,
                    name=name,
                    token_hash=hash_secret(token),
                    created_at=now,
                    created_by=ctx.principal.username,
                    expires_at=expires,
                )
                .returning(auth_tokens.c.id)
            ).scalar_one()
            details = {"token_id": token_id, "name": name, "expires_at": str(expires)}
            self._record(ctx, "auth.token.create", username, details=details, conn=conn)
        return CreatedToken(int(token_id), token, expires)

    def list_tokens(self, ctx: RequestContext, username: str | None = None) -> list[TokenInfo]:
        """Tokens (without secrets) of one user, or of everyone for those who manage users."""
        t = auth_tokens
        stmt = (
            select(t, _USERS.c.username)
            .select_from(t.join(_USERS, _USERS.c.id == t.c.user_id))
            .order_by(t.c.id)
        )
        with self.crm.engine.connect() as conn:
            if username is None:
                if not ctx.operator:
                    self.crm.require(conn, ctx, "manage", "user")
            else:
                self._may_manage(conn, ctx, username)
                stmt = stmt.where(_USERS.c.username == username)
            rows = conn.execute(stmt).all()
        return [
            TokenInfo(
                id=r.id,
                username=r.username,
                name=r.name,
                created_at=aware(r.created_at),  # type: ignore[arg-type]
                created_by=r.created_by,
                expires_at=aware(r.expires_at),
                revoked_at=aware(r.revoked_at),
                last_used_at=aware(r.last_used_at),
            )
            for r in rows
        ]

    def revoke_token(self, ctx: RequestContext, token_id: int) -> None:
        """Revoke a token; it stops working on the next request."""
        with self.crm.engine.begin() as conn:
            row = conn.execute(
                select(auth_tokens.c.revoked_at, _USERS.c.username)
                .select_from(auth_tokens.join(_USERS, _USERS.c.id == auth_tokens.c.user_id))
                .where(auth_tokens.c.id == token_id)
            ).first()
            if row is None:
                raise InvalidInput(f"no token {token_id} (see: crmguard tokens list)")
            self._may_manage(conn, ctx, row.username)
            if row.revoked_at is not None:
                raise InvalidInput(f"token {token_id} is already revoked")
            conn.execute(
                update(auth_tokens)
                .where(auth_tokens.c.id == token_id)
                .values(revoked_at=self.crm.clock())
            )
            details = {"token_id": token_id}
            self._record(ctx, "auth.token.revoke", row.username, details=details, conn=conn)

    # -- sign-in ------------------------------------------------------------------------

    def sign_in(
        self,
        username: str,
        password: str,
        totp_code: str | None = None,
        *,
        ip: str | None = None,
        request_id: str | None = None,
        channel: Channel = "api",
    ) -> SignedIn:
        """Check a password (and TOTP code where required) and open a session."""
        address = ip or "unknown"
        claimed = Principal(user_id=0, username=username[:64], team_id=None, roles=())
        ctx = RequestContext(claimed, channel=channel, ip=ip, request_id=request_id or "")
        now = self.crm.clock()
        with self.crm.engine.connect() as conn:
            self._throttle(conn, ctx, username[:64], address, now)
            row = conn.execute(
                select(
                    _USERS.c.id,
                    _USERS.c.active,
                    auth_credentials.c.password_hash,
                    auth_credentials.c.totp_secret,
                )
                .select_from(
                    _USERS.outerjoin(auth_credentials, auth_credentials.c.user_id == _USERS.c.id)
                )
                .where(_USERS.c.username == username)
            ).first()
        if row is None or row.password_hash is None:
            self.hasher.dummy_verify(password)
            raise self._failed(ctx, address, now, "unknown user or no password")
        if not self.hasher.verify(row.password_hash, password):
            raise self._failed(ctx, address, now, "wrong password")
        principal = self.crm.principal(username)
        second = self._second_factor(principal, row.totp_secret, totp_code)
        if second is not None:
            raise self._failed(ctx, address, now, second)
        if not principal.active or self._suspended(principal.username):
            raise self._failed(ctx, address, now, "account inactive or suspended")
        session_id = new_secret("crmgs_")
        expires = now + timedelta(hours=self.settings.session_absolute_hours)
        user_ctx = RequestContext(principal, channel=channel, ip=ip, request_id=ctx.request_id)
        with self.crm.engine.begin() as conn:
            conn.execute(
                insert(auth_sessions).values(
                    id_hash=hash_secret(session_id),
                    user_id=principal.user_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires,
                    ip=ip,
                    ended=False,
                )
            )
            conn.execute(delete(auth_failures).where(auth_failures.c.username == username))
            details = {"method": "password+totp" if row.totp_secret else "password"}
            self._record(user_ctx, "auth.signin", username, details=details, conn=conn)
        return SignedIn(session_id, csrf_token_for(session_id), expires, principal)

    def sign_out(self, ctx: RequestContext, session_id: str) -> None:
        """End a session (recorded)."""
        with self.crm.engine.begin() as conn:
            conn.execute(
                update(auth_sessions)
                .where(auth_sessions.c.id_hash == hash_secret(session_id))
                .values(ended=True)
            )
            self._record(ctx, "auth.signout", ctx.principal.username, conn=conn)

    def _second_factor(
        self, principal: Principal, secret: str | None, code: str | None
    ) -> str | None:
        """None when the second factor is satisfied, else the reason it is not."""
        required = bool(self.settings.require_totp_for & set(principal.roles))
        if secret is None:
            return "TOTP required for this role but not enrolled" if required else None
        if not code:
            return "TOTP code missing"
        return None if verify_totp(secret, code) else "wrong TOTP code"

    def _throttle(
        self, conn: Connection, ctx: RequestContext, username: str, address: str, now: datetime
    ) -> None:
        since = now - timedelta(minutes=self.settings.failure_window_minutes)
        f = auth_failures
        by_user = conn.execute(
            select(func.count()).where(f.c.username == username, f.c.at >= since)
        ).scalar_one()
        by_address = conn.execute(
            select(func.count()).where(f.c.ip == address, f.c.at >= since)
        ).scalar_one()
        if (
            by_user >= self.settings.max_failures_per_user
            or by_address >= self.settings.max_failures_per_address
        ):
            retry = self.settings.failure_window_minutes * 60
            details = {"reason": "throttled", "failures_user": by_user, "failures_ip": by_address}
            self._record(ctx, "auth.signin", username, outcome="denied", details=details)
            raise SignInThrottled(retry)

    def _failed(
        self, ctx: RequestContext, address: str, now: datetime, reason: str
    ) -> NotAuthenticated:
        username = ctx.principal.username
        with self.crm.engine.begin() as conn:
            conn.execute(insert(auth_failures).values(username=username, ip=address, at=now))
            details = {"reason": reason}
            self._record(ctx, "auth.signin", username, outcome="denied", details=details, conn=conn)
        return NotAuthenticated("sign-in failed: wrong username, password or TOTP code")

    # -- per request --------------------------------------------------------------------

    def authenticate(
        self,
        *,
        bearer: str | None = None,
        session_id: str | None = None,
        ip: str | None = None,
        request_id: str | None = None,
        channel: Channel = "api",
    ) -> Authenticated:
        """The principal a request's token or session proves; :class:`NotAuthenticated`
        (recorded as ``auth.reject``) when there is none."""
        now = self.crm.clock()
        found: Authenticated | None = None
        with self.crm.engine.connect() as conn:
            if bearer:
                found = self._by_token(conn, bearer, now)
            elif session_id:
                found = self._by_session(conn, session_id, now)
            if found is not None and found.principal.active:
                restrictions = active_restrictions(conn, found.principal.username, now)
                if any(r.kind == SUSPENDED for r in restrictions):
                    found = None
            elif found is not None:
                found = None
            if found is not None:
                conn.commit()
                return found
        if bearer or session_id:
            nobody = Principal(user_id=0, username="anonymous", team_id=None, roles=())
            ctx = RequestContext(nobody, channel=channel, ip=ip, request_id=request_id or "")
            method = "token" if bearer else "session"
            self.crm.record(
                self.crm.event(
                    ctx, "auth.reject", "user", outcome="denied", details={"method": method}
                )
            )
        raise NotAuthenticated(f"not signed in: {_UNAUTHENTICATED}")

    def _principal_row(self, row: Any) -> Principal:
        return Principal(
            user_id=row.uid,
            username=row.username,
            team_id=row.team_id,
            roles=tuple(row.roles or ()),
            active=bool(row.active),
        )

    def _by_token(self, conn: Connection, token: str, now: datetime) -> Authenticated | None:
        t = auth_tokens
        row = conn.execute(
            select(
                t.c.id,
                t.c.expires_at,
                t.c.revoked_at,
                t.c.last_used_at,
                _USERS.c.id.label("uid"),
                _USERS.c.username,
                _USERS.c.team_id,
                _USERS.c.roles,
                _USERS.c.active,
            )
            .select_from(t.join(_USERS, _USERS.c.id == t.c.user_id))
            .where(t.c.token_hash == hash_secret(token))
        ).first()
        if row is None or row.revoked_at is not None:
            return None
        expires = aware(row.expires_at)
        if expires is not None and expires <= now:
            return None
        last = aware(row.last_used_at)
        if last is None or now - last > _TOUCH_EVERY:
            conn.execute(update(t).where(t.c.id == row.id).values(last_used_at=now))
        return Authenticated(self._principal_row(row), "token")

    def _by_session(self, conn: Connection, session_id: str, now: datetime) -> Authenticated | None:
        s = auth_sessions
        row = conn.execute(
            select(
                s.c.id,
                s.c.expires_at,
                s.c.last_seen_at,
                s.c.ended,
                _USERS.c.id.label("uid"),
                _USERS.c.username,
                _USERS.c.team_id,
                _USERS.c.roles,
                _USERS.c.active,
            )
            .select_from(s.join(_USERS, _USERS.c.id == s.c.user_id))
            .where(s.c.id_hash == hash_secret(session_id))
        ).first()
        if row is None or row.ended:
            return None
        expires, seen = aware(row.expires_at), aware(row.last_seen_at)
        assert expires is not None and seen is not None
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        if expires <= now or now - seen > idle:
            return None
        if now - seen > _TOUCH_EVERY:
            conn.execute(update(s).where(s.c.id == row.id).values(last_seen_at=now))
        return Authenticated(self._principal_row(row), "session", session_id)

    def _suspended(self, username: str) -> bool:
        with self.crm.engine.connect() as conn:
            restrictions = active_restrictions(conn, username, self.crm.clock())
        return any(r.kind == SUSPENDED for r in restrictions)
