"""Anchor settings: where signed ledger heads go, and how often.

The anchor file is always on (beside the keys unless moved to another disk); S3 and
syslog are added when named. Kept apart from :mod:`crmguard.settings` like the backup
settings, because the anchor stores grow their own knobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmguard.errors import SettingsError


@dataclass(frozen=True)
class AnchorSettings:
    """``[anchors]`` in crmguard.toml, overridden by ``CRMGUARD_ANCHOR_*`` variables."""

    file: Path
    every: int = 1000
    seconds: float = 60.0
    s3_bucket: str | None = None
    s3_prefix: str = "crmguard-anchors/"
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_retention_days: int = 3650
    syslog: str | None = None

    @classmethod
    def from_sources(
        cls, home: Path, section: Mapping[str, Any], env: Mapping[str, str]
    ) -> AnchorSettings:
        def pick(key: str) -> Any:
            return env.get(f"CRMGUARD_ANCHOR_{key.upper()}") or section.get(key)

        file = pick("file")
        return cls(
            file=Path(file).expanduser() if file else home / "anchors" / "ledger-anchors.jsonl",
            every=_number(pick("every"), "every", int, 1000),
            seconds=_number(pick("seconds"), "seconds", float, 60.0),
            s3_bucket=pick("s3_bucket") or None,
            s3_prefix=pick("s3_prefix") or "crmguard-anchors/",
            s3_endpoint_url=pick("s3_endpoint_url") or None,
            s3_region=pick("s3_region") or None,
            s3_retention_days=_number(pick("s3_retention_days"), "s3_retention_days", int, 3650),
            syslog=pick("syslog") or None,
        )


def _number(value: Any, name: str, kind: type[int] | type[float], default: Any) -> Any:
    if value in (None, ""):
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SettingsError(f"anchors {name} {value!r} must be a number") from None
    if number <= 0:
        raise SettingsError(f"anchors {name} must be positive, not {value!r}")
    return number
