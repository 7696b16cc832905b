"""Key files, passphrases, KMS (moto) and rotation without touching the data."""

from __future__ import annotations

import stat
from pathlib import Path

import boto3
import pytest
from backup_helpers import fill_crm

from backup import (
    BackupError,
    FileKeyProvider,
    KdfParams,
    KeyMissing,
    KmsKeyProvider,
    LocalStore,
    PassphraseKeyProvider,
    WrongKey,
    create_backup,
    init_key_file,
    list_backups,
    restore_backup,
    rotate_keys,
    verify_backup,
)

FAST = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)


def test_key_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "k" / "backup.key"
    kid = init_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert FileKeyProvider(path).key_id == kid
    with pytest.raises(BackupError, match="already exists"):
        init_key_file(path)
    path.chmod(0o644)
    with pytest.raises(KeyMissing, match="chmod 600"):
        FileKeyProvider(path)


def test_passphrase_round_trip_and_wrong_passphrase(
    sqlite_url: str, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url)
    good = PassphraseKeyProvider("correct horse battery staple", FAST)
    bid = create_backup(sqlite_url, local_store, good, spool).backup_id
    header = list_backups(local_store)[0]
    assert header.key_id.startswith("passphrase:")
    with pytest.raises(WrongKey, match=header.key_id):
        restore_backup(
            local_store, PassphraseKeyProvider("wrong", FAST), bid, str(tmp_path / "r.db")
        )
    restore_backup(
        local_store,
        PassphraseKeyProvider("correct horse battery staple"),
        bid,
        str(tmp_path / "r.db"),
    )  # costs come from the header, not the caller


def test_rotate_rewraps_without_touching_data(
    sqlite_url: str, key: FileKeyProvider, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    fill_crm(sqlite_url)
    ids = [create_backup(sqlite_url, local_store, key, spool).backup_id for _ in range(2)]
    data = {i: (local_store.root / "backups" / f"{i}.data").read_bytes() for i in ids}
    init_key_file(tmp_path / "new.key")
    new = FileKeyProvider(tmp_path / "new.key")
    result = rotate_keys(local_store, key, new)
    assert sorted(result.rewrapped) == sorted(ids)
    for i in ids:
        assert (local_store.root / "backups" / f"{i}.data").read_bytes() == data[i]
        assert verify_backup(local_store, new, i, tmp_path / "w").ok
        with pytest.raises(WrongKey):
            verify_backup(local_store, key, i, tmp_path / "w")
    assert {e.key_id for e in list_backups(local_store)} == {new.key_id}
    assert sorted(rotate_keys(local_store, new, new).already_current) == sorted(ids)


def test_kms_provider_against_moto(
    s3_endpoint: str, sqlite_url: str, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    kms = boto3.client("kms", endpoint_url=s3_endpoint, region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    fill_crm(sqlite_url)
    provider = KmsKeyProvider(key_id, kms)
    bid = create_backup(sqlite_url, local_store, provider, spool).backup_id
    assert verify_backup(local_store, provider, bid, tmp_path / "w").ok
    # a different KMS key can still decrypt in moto (it reads the key from the blob),
    # but a file key cannot: the provider kind is checked.
    init_key_file(tmp_path / "f.key")
    with pytest.raises(WrongKey, match=key_id):
        verify_backup(local_store, FileKeyProvider(tmp_path / "f.key"), bid, tmp_path / "w")
    assert other != key_id


def test_a_key_file_of_raw_bytes_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "backup.key"
    path.write_bytes(bytes(range(256)))
    path.chmod(0o600)
    with pytest.raises(KeyMissing) as caught:
        FileKeyProvider(path)
    message = str(caught.value)
    assert str(path) in message and "binary" in message and "\n" not in message


def test_kdf_parameters_from_a_crafted_header_are_bounded_before_use(
    sqlite_url: str, local_store: LocalStore, spool: Path, tmp_path: Path
) -> None:
    import base64
    import json
    from dataclasses import replace

    from backup import BackupCorrupt
    from backup.header import Header

    fill_crm(sqlite_url)
    bid = create_backup(sqlite_url, local_store, PassphraseKeyProvider("pw", FAST), spool).backup_id
    path = local_store.root / "backups" / f"{bid}.manifest"
    doc = json.loads(path.read_bytes())
    header = Header.decode(base64.b64decode(doc["header"]), "test")
    params = {**header.wrapped.params, "memory_kib": 3 * 1024 * 1024}  # 3 GiB
    crafted = replace(header, wrapped=replace(header.wrapped, params=params))
    doc["header"] = base64.b64encode(crafted.encode()).decode()
    path.write_bytes(json.dumps(doc).encode())
    with pytest.raises(BackupCorrupt, match="out of bounds"):
        restore_backup(local_store, PassphraseKeyProvider("pw", FAST), bid, str(tmp_path / "r.db"))
    assert not (tmp_path / "r.db").exists()
