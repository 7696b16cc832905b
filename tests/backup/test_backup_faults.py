"""Bad input and faults: wrong key, corrupted object, full disk, unwritable target."""

from __future__ import annotations

from pathlib import Path

import pytest
from backup_helpers import fill_crm

from backup import (
    BackupCorrupt,
    FileKeyProvider,
    KeyProvider,
    LocalStore,
    StoreError,
    WrappedKey,
    WrongKey,
    create_backup,
    init_key_file,
    list_backups,
    restore_backup,
    verify_backup,
)


def test_wrong_key_names_the_key_id(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url)
    bid = create_backup(sqlite_url, local_store, key, spool).backup_id
    init_key_file(tmp_path / "other.key")
    other = FileKeyProvider(tmp_path / "other.key")
    with pytest.raises(WrongKey) as err:
        restore_backup(local_store, other, bid, str(tmp_path / "r.db"))
    assert key.key_id in str(err.value) and other.key_id in str(err.value)
    assert not (tmp_path / "r.db").exists()


def test_corrupted_data_object_is_refused_naming_the_chunk(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url, contacts=2000)
    bid = create_backup(sqlite_url, local_store, key, spool).backup_id
    data = local_store.root / "backups" / f"{bid}.data"
    blob = bytearray(data.read_bytes())
    blob[len(blob) // 2] ^= 0x40
    data.write_bytes(bytes(blob))
    report = verify_backup(local_store, key, bid, tmp_path / "w")
    assert not report.ok
    assert "chunk 0" in (report.problem or "")
    with pytest.raises(BackupCorrupt, match="chunk 0"):
        restore_backup(local_store, key, bid, str(tmp_path / "r.db"))
    assert not (tmp_path / "r.db").exists()


def test_edited_manifest_is_refused(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url)
    bid = create_backup(sqlite_url, local_store, key, spool).backup_id
    man = local_store.root / "backups" / f"{bid}.manifest"
    man.write_text(man.read_text().replace('"contacts": 50', '"contacts": 51'))
    report = verify_backup(local_store, key, bid, tmp_path / "w")
    assert not report.ok and "manifest failed authentication" in (report.problem or "")


def test_full_disk_is_a_clear_error_and_keeps_previous_backups(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path
) -> None:
    fill_crm(sqlite_url)
    first = create_backup(sqlite_url, local_store, key, spool).backup_id
    doomed = "20990101T000000Z-dead00"
    with pytest.raises(StoreError, match="no space left"):
        _run_with_part_link(sqlite_url, local_store, key, spool, doomed)
    assert [e.backup_id for e in list_backups(local_store)] == [first]
    assert not list(spool.glob(f"{doomed}*"))
    assert Path("/dev/full").exists()


def _run_with_part_link(
    url: str, store: LocalStore, key: FileKeyProvider, spool: Path, backup_id: str
) -> None:
    """Run a backup whose staging file is a link to /dev/full, so writes get a real ENOSPC.

    The link is made after the run's stale-part sweep (which would remove it), from the
    store's cleanup hook that runs just before the data is written.
    """

    class LinkingStore(LocalStore):
        def cleanup_incomplete(self) -> int:  # runs after the spool sweep, before writing
            part = spool / f"{backup_id}.data.part"
            part.unlink(missing_ok=True)
            part.symlink_to("/dev/full")
            return super().cleanup_incomplete()

    create_backup(url, LinkingStore(store.root), key, spool, backup_id=backup_id)


def test_unusable_store_folder_is_a_clear_error(
    sqlite_url: str, key: FileKeyProvider, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    store = LocalStore(blocker / "backups")
    with pytest.raises(StoreError, match="not a folder"):
        create_backup(sqlite_url, store, key, spool)


class RefusingKms(KeyProvider):
    """A KEK provider that cannot wrap (e.g. KMS denied): no backup may be written."""

    @property
    def key_id(self) -> str:
        return "kms:denied"

    def wrap(self, data_key: bytes, backup_id: str) -> WrappedKey:
        raise StoreError("KMS refused to wrap the data key")

    def unwrap(self, wrapped: WrappedKey, backup_id: str) -> bytes:
        raise AssertionError("never called")


def test_no_encryption_means_no_backup(
    sqlite_url: str, local_store: LocalStore, spool: Path
) -> None:
    fill_crm(sqlite_url)
    with pytest.raises(StoreError, match="KMS refused"):
        create_backup(sqlite_url, local_store, RefusingKms(), spool)
    assert list(local_store.list()) == []
    assert [p.name for p in spool.iterdir() if p.name != ".lock"] == []


def test_partial_backup_is_never_listed(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path
) -> None:
    fill_crm(sqlite_url)
    bid = create_backup(sqlite_url, local_store, key, spool).backup_id
    (local_store.root / "backups" / f"{bid}.manifest").unlink()
    assert list_backups(local_store) == []
