"""Backup settings: where backups go, which key protects them, when they run.

Kept apart from :mod:`crmguard.settings` because the backup room grows its own knobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backup import DEFAULT_ZSTD_LEVEL, ZSTD_LEVELS, RetentionPolicy
from crmguard.errors import SettingsError


@dataclass(frozen=True)
class BackupSettings:
    """Where and how backups are made. With no bucket, backups go to ``local_dir``."""

    local_dir: Path
    key_file: Path
    s3_bucket: str | None = None
    s3_prefix: str = "crmguard/"
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_sse: str | None = None
    s3_storage_class: str | None = None
    s3_object_lock_days: int | None = None
    kms_key_id: str | None = None
    passphrase: str | None = None
    zstd_level: int = DEFAULT_ZSTD_LEVEL
    schedule: str = "0 2 * * *"
    drill_schedule: str = "0 4 * * 0"
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)

    @classmethod
    def from_sources(
        cls, home: Path, section: Mapping[str, Any], env: Mapping[str, str]
    ) -> BackupSettings:
        """Merge the ``[backup]`` TOML section with ``CRMGUARD_BACKUP_*`` variables."""

        def pick(key: str, env_name: str) -> Any:
            return env.get(env_name) or section.get(key)

        retention_section = section.get("retention", {})
        if not isinstance(retention_section, Mapping):
            raise SettingsError("[backup.retention] must be a table of counts")
        try:
            retention = RetentionPolicy(**{k: int(v) for k, v in retention_section.items()})
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"[backup.retention]: {exc}") from None
        key_file = pick("key_file", "CRMGUARD_BACKUP_KEY_FILE")
        local_dir = pick("local_dir", "CRMGUARD_BACKUP_LOCAL_DIR")
        return cls(
            local_dir=Path(local_dir) if local_dir else home / "backups",
            key_file=Path(key_file) if key_file else home / "keys" / "backup.key",
            s3_bucket=pick("s3_bucket", "CRMGUARD_BACKUP_S3_BUCKET") or None,
            s3_prefix=pick("s3_prefix", "CRMGUARD_BACKUP_S3_PREFIX") or "crmguard/",
            s3_endpoint_url=pick("s3_endpoint_url", "CRMGUARD_BACKUP_S3_ENDPOINT_URL") or None,
            s3_region=pick("s3_region", "CRMGUARD_BACKUP_S3_REGION") or None,
            s3_sse=pick("s3_sse", "CRMGUARD_BACKUP_S3_SSE") or None,
            s3_storage_class=pick("s3_storage_class", "CRMGUARD_BACKUP_S3_STORAGE_CLASS") or None,
            s3_object_lock_days=_int_or_none(
                pick("s3_object_lock_days", "CRMGUARD_BACKUP_S3_OBJECT_LOCK_DAYS")
            ),
            kms_key_id=pick("kms_key_id", "CRMGUARD_BACKUP_KMS_KEY_ID") or None,
            passphrase=env.get("CRMGUARD_BACKUP_PASSPHRASE") or None,
            zstd_level=_zstd_level(pick("zstd_level", "CRMGUARD_BACKUP_ZSTD_LEVEL")),
            schedule=section.get("schedule", "0 2 * * *"),
            drill_schedule=section.get("drill_schedule", "0 4 * * 0"),
            retention=retention,
        )


def _zstd_level(value: Any) -> int:
    level = _int_or_none(value)
    if level is None:
        return DEFAULT_ZSTD_LEVEL
    if level not in ZSTD_LEVELS:
        raise SettingsError(
            f"backup zstd_level {level} is out of range "
            f"({ZSTD_LEVELS.start}..{ZSTD_LEVELS.stop - 1}; {DEFAULT_ZSTD_LEVEL} is the default)"
        )
    return level


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"backup setting {value!r} must be a whole number") from None
