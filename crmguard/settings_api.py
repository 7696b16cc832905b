"""Settings of the HTTP API and of sign-in: body size, trusted proxies, sessions, TOTP,
and the limits on failed sign-ins.

Kept apart from :mod:`crmguard.settings` like the backup settings. Read from the
``[api]`` and ``[auth]`` sections of ``crmguard.toml``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmguard.errors import SettingsError

#: Roles that may be made to sign in with a TOTP code as well as a password.
TOTP_ROLES = frozenset({"owner", "admin", "security"})


@dataclass(frozen=True)
class ApiSettings:
    """Knobs of ``crmguard serve``; the defaults are the safe ones."""

    max_body_bytes: int = 1024 * 1024
    #: Addresses (or networks) of reverse proxies whose ``X-Forwarded-For`` is believed.
    trusted_proxies: tuple[str, ...] = ()
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    #: Roles (of owner, admin, security) whose password sign-in also needs a TOTP code.
    require_totp_for: frozenset[str] = frozenset()
    failure_window_minutes: int = 15
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    #: Largest ``?limit=`` a list accepts (the service bounds it too).
    max_page_size: int = 500

    @classmethod
    def from_sections(cls, api: Mapping[str, Any], auth: Mapping[str, Any]) -> ApiSettings:
        """Merge the ``[api]`` and ``[auth]`` sections; a wrong value names its key."""

        def integer(section: Mapping[str, Any], key: str, default: int, name: str) -> int:
            value = section.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"[{name}] {key} must be a positive whole number")
            return value

        proxies = api.get("trusted_proxies", [])
        if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
            raise SettingsError("[api] trusted_proxies must be a list of addresses or networks")
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(f"[api] trusted_proxies: {proxy!r} is not an address") from None
        roles = auth.get("require_totp_for", [])
        if not isinstance(roles, list) or not set(roles) <= TOTP_ROLES:
            raise SettingsError(
                f"[auth] require_totp_for must list some of: {', '.join(sorted(TOTP_ROLES))}"
            )
        d = cls()
        return cls(
            max_body_bytes=integer(api, "max_body_bytes", d.max_body_bytes, "api"),
            trusted_proxies=tuple(proxies),
            session_idle_minutes=integer(
                auth, "session_idle_minutes", d.session_idle_minutes, "auth"
            ),
            session_absolute_hours=integer(
                auth, "session_absolute_hours", d.session_absolute_hours, "auth"
            ),
            require_totp_for=frozenset(roles),
            failure_window_minutes=integer(
                auth, "failure_window_minutes", d.failure_window_minutes, "auth"
            ),
            max_failures_per_user=integer(
                auth, "max_failures_per_user", d.max_failures_per_user, "auth"
            ),
            max_failures_per_address=integer(
                auth, "max_failures_per_address", d.max_failures_per_address, "auth"
            ),
            max_page_size=integer(api, "max_page_size", d.max_page_size, "api"),
        )
