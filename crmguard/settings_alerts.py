"""Alert settings: the live loop's pace, the outbox's backoff, and the channels.

Channel tables (``[alerts.channels.NAME]``) are kept as written here and turned into
channels, with their secrets, by :func:`crmguard.alerting.channels` when the daemon or an
``alerts`` command needs them, so a broken mail setting never stops ``contacts list``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crmguard.errors import SettingsError

_KEYS = {
    "poll_interval",
    "delivery_interval",
    "retry_base_seconds",
    "retry_max_seconds",
    "channels",
}


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]`` in crmguard.toml."""

    poll_interval: float = 0.1
    delivery_interval: float = 0.5
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> AlertSettings:
        unknown = sorted(set(section) - _KEYS)
        if unknown:
            raise SettingsError(
                f"[alerts] {unknown[0]}: unknown setting (known: {', '.join(sorted(_KEYS))})"
            )
        channels = section.get("channels", {})
        if not isinstance(channels, Mapping) or not all(
            isinstance(v, Mapping) for v in channels.values()
        ):
            raise SettingsError(
                "[alerts.channels] must hold one table per channel, e.g. [alerts.channels.mail]"
            )

        def seconds(key: str, default: float, low: float, high: float) -> float:
            value = section.get(key, default)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SettingsError(f"[alerts] {key} must be a number of seconds, not {value!r}")
            if not low <= value <= high:
                raise SettingsError(f"[alerts] {key} must be between {low:g} and {high:g} seconds")
            return float(value)

        base = seconds("retry_base_seconds", 5.0, 0.01, 3600)
        return cls(
            poll_interval=seconds("poll_interval", 0.1, 0.01, 10),
            delivery_interval=seconds("delivery_interval", 0.5, 0.01, 60),
            retry_base_seconds=base,
            retry_max_seconds=max(base, seconds("retry_max_seconds", 3600.0, 0.01, 86400)),
            channels={str(k): dict(v) for k, v in channels.items()},
        )
