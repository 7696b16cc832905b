"""Retention plans, the dry run, the newest verified backup, and S3 Object Lock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backup_helpers import fill_crm

from backup import (
    FileKeyProvider,
    LocalStore,
    RetentionPolicy,
    S3Store,
    apply,
    create_backup,
    list_backups,
    make_s3_client,
    plan,
    store_lock,
    verify_backup,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_days(
    url: str, store: LocalStore | S3Store, key: FileKeyProvider, spool: Path, days: int
) -> list[str]:
    fill_crm(url, contacts=3)
    return [
        create_backup(url, store, key, spool, now=T0 + timedelta(days=d)).backup_id
        for d in range(days)
    ]


def test_daily_policy_keeps_newest_days_and_dry_run_changes_nothing(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path
) -> None:
    ids = make_days(sqlite_url, local_store, key, spool, 6)
    policy = RetentionPolicy(keep_last=1, daily=3, weekly=0, monthly=0)
    decisions = plan(list_backups(local_store), policy)
    assert [d.backup_id for d in decisions if d.keep] == ids[::-1][:3]
    assert len(list_backups(local_store)) == 6  # planning deletes nothing
    deleted = apply(local_store, decisions)
    assert sorted(deleted) == sorted(ids[:3])
    assert [e.backup_id for e in list_backups(local_store)] == ids[3:]
    assert not any(o.key.startswith(f"backups/{ids[0]}") for o in local_store.list())


def test_newest_verified_backup_is_never_deleted(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    ids = make_days(sqlite_url, local_store, key, spool, 4)
    assert verify_backup(local_store, key, ids[0], tmp_path / "w").ok
    decisions = plan(list_backups(local_store), RetentionPolicy(1, 0, 0, 0, 0))
    kept = {d.backup_id: d.reasons for d in decisions if d.keep}
    assert kept == {ids[3]: ("keep-last", "newest"), ids[0]: ("newest verified",)}


def test_object_lock_is_respected(
    s3_endpoint: str, sqlite_url: str, key: FileKeyProvider, spool: Path
) -> None:
    client = make_s3_client(s3_endpoint)
    name = f"lock-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    locked = S3Store(client, name, "crm/", lock_days=1)
    ids = make_days(sqlite_url, locked, key, spool, 3)
    decisions = plan(list_backups(locked), RetentionPolicy(1, 0, 0, 0, 0), store_lock(locked))
    assert all(d.keep for d in decisions)
    assert any("object lock until" in r for d in decisions for r in d.reasons)
    assert apply(locked, decisions) == []
    assert [e.backup_id for e in list_backups(locked)] == ids


def test_bucket_default_retention_without_lock_days(
    s3_endpoint: str, sqlite_url: str, key: FileKeyProvider, spool: Path
) -> None:
    """A bucket whose Object Lock applies a default retention to every write: uploads
    carry the checksum S3 demands, and prune keeps what the bucket still protects."""
    client = make_s3_client(s3_endpoint)
    name = f"deflock-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    client.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    store = S3Store(client, name, "crm/")  # no lock days of our own
    assert store.bucket_locks()
    ids = make_days(sqlite_url, store, key, spool, 2)
    assert [e.backup_id for e in list_backups(store)] == ids
    assert not list(spool.glob("*.manifest"))  # uploaded, not left in the spool
    assert verify_backup(store, key, ids[-1], spool / "w").ok
    decisions = plan(list_backups(store), RetentionPolicy(1, 0, 0, 0, 0), store_lock(store))
    old = next(d for d in decisions if d.backup_id == ids[0])
    assert old.keep and any("object lock until" in r for r in old.reasons)
    assert apply(store, decisions) == []


def test_plain_bucket_is_not_taken_for_a_locked_one(s3_store: S3Store) -> None:
    assert not s3_store.bucket_locks()
