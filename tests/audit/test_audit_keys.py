"""Key files: created private, never overwritten, refused when exposed or malformed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from audit import (
    KeyFileError,
    create_key_file,
    create_signing_key_file,
    load_key_file,
    load_signing_key_file,
    public_key_hex,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_and_load(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "keys" / "deeper" / "ledger.key"
        create_key_file(path)
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    key = load_key_file(path)
    assert len(key) == 32 and key == path.read_bytes()
    other = tmp_path / "keys" / "other.key"
    create_key_file(other)
    assert load_key_file(other) != key


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    create_key_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        create_key_file(path)
    assert path.read_bytes() == before


def test_missing_exposed_and_malformed(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    with pytest.raises(KeyFileError, match="does not exist") as info:
        load_key_file(path)
    assert info.value.exit_code == 2
    create_key_file(path)
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match=r"mode 0640\); run: chmod 600"):
        load_key_file(path)
    os.chmod(path, 0o604)
    with pytest.raises(KeyFileError, match="can be read by other users"):
        load_key_file(path)
    os.chmod(path, 0o600)
    path.write_bytes(b"short")
    with pytest.raises(KeyFileError, match="holds 5 bytes, expected 32"):
        load_key_file(path)


def test_messages_are_one_line_without_key_material(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    path.write_bytes(b"\x01" * 31)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError) as info:
        load_key_file(path)
    assert "\n" not in str(info.value) and "\\x01" not in str(info.value)


def test_signing_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "checkpoint.key"
    public = create_signing_key_file(path)
    assert mode(path) == 0o600
    key = load_signing_key_file(path)
    assert public_key_hex(key.public_key()) == public
    signature = key.sign(b"x")
    key.public_key().verify(signature, b"x")
    with pytest.raises(KeyFileError):
        create_signing_key_file(path)
