"""A key-encryption key kept in a file (mode 0600), which may live on removable media.

The file holds 32 random bytes in base64 behind a version tag, so that a person opening
it sees what it is, and a truncated or edited file is refused instead of silently
producing a different key.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from backup.errors import BackupError, KeyMissing, WrongKey
from backup.interface import KeyProvider, WrappedKey
from backup.keys import aead

TAG = "crmguard-backup-kek-v1"
KEY_BYTES = 32


def init_key_file(path: Path, *, overwrite: bool = False) -> str:
    """Create a new random key file with mode 0600 and return its key id.

    Refuses to replace an existing file unless ``overwrite``: losing a KEK loses every
    backup wrapped under it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(KEY_BYTES)
    text = (
        "# crmguard backup key-encryption key. Keep it secret; keep a copy offline.\n"
        f"{TAG} {base64.b64encode(key).decode()}\n"
    )
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise BackupError(
            f"{path} already exists; refusing to replace a key (use another path)"
        ) from None
    except OSError as exc:
        raise BackupError(f"cannot create key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
    return aead.fingerprint("file", key)


def read_key_file(path: Path) -> bytes:
    """The 32-byte KEK in ``path``; refuses files readable by group or others."""
    try:
        mode = path.stat().st_mode
        text = path.read_bytes().decode("ascii")
    except UnicodeDecodeError:
        raise KeyMissing(
            f"{path} is not a crmguard backup key file (it holds binary data, expected a "
            f"'{TAG}' line)"
        ) from None
    except IsADirectoryError:
        raise KeyMissing(f"backup key file {path} is a folder, not a key file") from None
    except FileNotFoundError:
        raise KeyMissing(
            f"backup key file {path} not found (create one: crmguard keys init)"
        ) from None
    except OSError as exc:
        raise KeyMissing(f"cannot read backup key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyMissing(f"backup key file {path} is readable by others; run: chmod 600 {path}")
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == TAG:
            try:
                key = base64.b64decode(parts[1], validate=True)
            except binascii.Error:
                break
            if len(key) == KEY_BYTES:
                return key
    raise KeyMissing(f"{path} is not a crmguard backup key file (expected a '{TAG}' line)")


class FileKeyProvider(KeyProvider):
    """Wraps data keys with AES-256-GCM under the KEK read from a key file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._kek = read_key_file(path)
        self._key_id = aead.fingerprint("file", self._kek)

    @property
    def key_id(self) -> str:
        return self._key_id

    def wrap(self, data_key: bytes, backup_id: str) -> WrappedKey:
        blob = aead.wrap(self._kek, data_key, backup_id, self._key_id)
        return WrappedKey(provider="file", key_id=self._key_id, blob=blob)

    def unwrap(self, wrapped: WrappedKey, backup_id: str) -> bytes:
        if wrapped.key_id != self._key_id:
            raise WrongKey(backup_id, wrapped.key_id, self._key_id)
        key = aead.unwrap(self._kek, wrapped.blob, backup_id, wrapped.key_id)
        if key is None:
            raise WrongKey(backup_id, wrapped.key_id, f"{self._key_id} (unwrap failed)")
        return key
