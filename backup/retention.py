"""Retention: keep-last / hourly / daily / weekly / monthly, planned before applied.

The plan is a pure function of the listing, so ``prune --dry-run`` shows exactly what a
real prune would do. Two backups are always kept whatever the policy says: the newest
one, and the newest verified one (the last backup proven restorable). Objects still
under S3 Object Lock are kept and reported, never forced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from backup.catalog import BackupEntry, data_key, manifest_key, verified_key
from backup.interface import Store

log = structlog.get_logger("backup.retention")


@dataclass(frozen=True)
class RetentionPolicy:
    """How many backups of each period to keep (0 = none of that period)."""

    keep_last: int = 7
    hourly: int = 0
    daily: int = 14
    weekly: int = 8
    monthly: int = 12


@dataclass(frozen=True)
class Decision:
    """Keep or delete one backup, and why."""

    backup_id: str
    created_at: datetime
    keep: bool
    reasons: tuple[str, ...]


_PERIODS: tuple[tuple[str, Callable[[datetime], str]], ...] = (
    ("hourly", lambda t: t.strftime("%Y-%m-%dT%H")),
    ("daily", lambda t: t.strftime("%Y-%m-%d")),
    ("weekly", lambda t: "{}-W{:02d}".format(*t.isocalendar()[:2])),
    ("monthly", lambda t: t.strftime("%Y-%m")),
)


def plan(
    entries: Sequence[BackupEntry],
    policy: RetentionPolicy,
    locked_until: Callable[[str], datetime | None] = lambda _id: None,
) -> list[Decision]:
    """Decide for every complete backup, newest first."""
    newest_first = sorted(entries, key=lambda e: e.manifest.created_at, reverse=True)
    reasons: dict[str, list[str]] = {e.backup_id: [] for e in newest_first}
    for e in newest_first[: policy.keep_last]:
        reasons[e.backup_id].append("keep-last")
    for name, bucket_of in _PERIODS:
        limit = getattr(policy, name)
        seen: set[str] = set()
        for e in newest_first:
            if len(seen) >= limit:
                break
            bucket = bucket_of(e.manifest.created_at)
            if bucket not in seen:
                seen.add(bucket)
                reasons[e.backup_id].append(name)
    if newest_first:
        reasons[newest_first[0].backup_id].append("newest")
    verified = [e for e in newest_first if e.verified_at is not None]
    if verified:
        reasons[verified[0].backup_id].append("newest verified")
    out = []
    for e in newest_first:
        why = reasons[e.backup_id]
        if not why:
            until = locked_until(e.backup_id)
            if until is not None:
                why.append(f"object lock until {until.isoformat()}")
        out.append(Decision(e.backup_id, e.manifest.created_at, bool(why), tuple(why)))
    return out


def store_lock(store: Store) -> Callable[[str], datetime | None]:
    """Object Lock lookup for :func:`plan`: the later of the data's and manifest's locks."""

    def locked(backup_id: str) -> datetime | None:
        dates = [
            d
            for d in (
                store.locked_until(data_key(backup_id)),
                store.locked_until(manifest_key(backup_id)),
            )
            if d
        ]
        return max(dates) if dates else None

    return locked


def apply(store: Store, decisions: Sequence[Decision]) -> list[str]:
    """Delete what the plan says to delete: manifest first, so a half-deleted backup is
    never listed as complete. Returns the deleted ids."""
    deleted = []
    for d in decisions:
        if d.keep:
            continue
        for key in (manifest_key(d.backup_id), data_key(d.backup_id), verified_key(d.backup_id)):
            store.delete(key)
        log.info("backup_pruned", backup_id=d.backup_id)
        deleted.append(d.backup_id)
    return deleted
