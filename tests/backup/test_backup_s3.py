"""The S3 store against moto's standalone server over real HTTP."""

from __future__ import annotations

from pathlib import Path

from backup_helpers import fill_crm

from backup import (
    FileKeyProvider,
    S3Store,
    create_backup,
    list_backups,
    make_s3_client,
    restore_backup,
    spooled,
    verify_backup,
)
from backup.stores.s3 import PART_SIZE


def test_backup_to_s3_lists_verifies_restores(
    sqlite_url: str, key: FileKeyProvider, s3_store: S3Store, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url)
    result = create_backup(sqlite_url, s3_store, key, spool)
    assert not result.spooled
    keys = sorted(o.key for o in s3_store.list())
    bid = result.backup_id
    assert keys == [f"backups/{bid}.data", f"backups/{bid}.manifest"]
    raw = s3_store.get_bytes(f"backups/{bid}.data")
    assert b"Ann1" not in raw and b"example.com" not in raw  # encrypted before it left
    assert [e.backup_id for e in list_backups(s3_store)] == [bid]
    assert verify_backup(s3_store, key, bid, tmp_path / "w").ok
    restore_backup(s3_store, key, bid, str(tmp_path / "r.db"))
    assert (tmp_path / "r.db").stat().st_size > 0


def test_unreachable_s3_spools_then_uploads_on_next_run(
    sqlite_url: str,
    key: FileKeyProvider,
    s3_store: S3Store,
    closed_endpoint: str,
    spool: Path,
) -> None:
    fill_crm(sqlite_url)
    down = S3Store(
        make_s3_client(closed_endpoint, attempts=2, connect_timeout=1),
        s3_store.bucket,
        s3_store.prefix,
    )
    first = create_backup(sqlite_url, down, key, spool)
    assert first.spooled
    assert [e.backup_id for e in spooled(spool)] == [first.backup_id]
    assert list_backups(s3_store) == []  # nothing partial is listed as complete
    second = create_backup(sqlite_url, s3_store, key, spool)
    assert second.uploaded_from_spool == (first.backup_id,)
    assert [e.backup_id for e in list_backups(s3_store)] == [first.backup_id, second.backup_id]
    assert spooled(spool) == []


def test_next_run_aborts_multipart_upload_left_by_a_killed_run(
    sqlite_url: str, key: FileKeyProvider, s3_store: S3Store, spool: Path
) -> None:
    client = s3_store.client
    # What a run killed during a multipart upload leaves behind: an open upload with a part.
    up = client.create_multipart_upload(Bucket=s3_store.bucket, Key="crm/backups/x.data")
    client.upload_part(
        Bucket=s3_store.bucket,
        Key="crm/backups/x.data",
        PartNumber=1,
        UploadId=up["UploadId"],
        Body=b"\0" * PART_SIZE,
    )
    assert client.list_multipart_uploads(Bucket=s3_store.bucket).get("Uploads")
    fill_crm(sqlite_url)
    result = create_backup(sqlite_url, s3_store, key, spool)
    assert result.aborted_uploads == 1
    assert not client.list_multipart_uploads(Bucket=s3_store.bucket).get("Uploads")
    assert [e.backup_id for e in list_backups(s3_store)] == [result.backup_id]


def test_multipart_upload_of_a_large_object(s3_store: S3Store, tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * (2 * PART_SIZE + 5))
    s3_store.put_file("backups/big.data", big)
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key="crm/backups/big.data")
    assert head["ContentLength"] == 2 * PART_SIZE + 5
    assert "-" in head["ETag"]  # multipart ETags carry the part count
