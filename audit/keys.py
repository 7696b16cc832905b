"""Key files: the ledger's MAC key and the checkpoint signing key.

Both are raw 32-byte files, mode 0600, in a 0700 directory. Loading refuses a key that
group or other can read: a MAC key that leaked lets anyone forge a chain that verifies,
so an exposed key is an error to fix, not a warning to scroll past.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from audit.errors import KeyFileError

KEY_LENGTH = 32


def _make_parent(path: Path) -> None:
    """Create missing parent directories as 0700; existing ones are left as they are."""
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask


def _write_new(path: Path, data: bytes, what: str) -> None:
    path = Path(path)
    try:
        _make_parent(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(
            f"{what} {path} already exists; refusing to overwrite it "
            "(entries made with the old key could no longer be checked)"
        ) from None
    except OSError as exc:
        raise KeyFileError(f"cannot create {what} {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_private(path: Path, what: str) -> bytes:
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyFileError(
            f"{what} {path} does not exist; restore it from your key backup "
            "(or create one when starting a new ledger)"
        ) from None
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc.strerror}") from None
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"{what} {path} can be read by other users (mode {mode:04o}); run: chmod 600 {path}"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) != KEY_LENGTH:
        raise KeyFileError(
            f"{what} {path} holds {len(data)} bytes, expected {KEY_LENGTH}; "
            "it is not a key file of this program"
        )
    return data


def create_key_file(path: Path | str) -> None:
    """Write a new random 32-byte MAC key (mode 0600); never overwrites."""
    _write_new(Path(path), secrets.token_bytes(KEY_LENGTH), "MAC key file")


def load_key_file(path: Path | str) -> bytes:
    """Read the MAC key, refusing a missing, exposed or malformed file."""
    return _read_private(Path(path), "MAC key file")


def create_signing_key_file(path: Path | str) -> str:
    """Write a new Ed25519 checkpoint signing key (mode 0600); returns the public key hex.

    The public key is what an auditor keeps (or prints) to check checkpoints without
    being able to make new ones.
    """
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    _write_new(Path(path), raw, "checkpoint signing key file")
    return public_key_hex(private.public_key())


def load_signing_key_file(path: Path | str) -> Ed25519PrivateKey:
    """Read the checkpoint signing key, with the same checks as the MAC key."""
    raw = _read_private(Path(path), "checkpoint signing key file")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_hex(key: Ed25519PublicKey) -> str:
    """The raw public key as hex, the form stored beside each checkpoint."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def load_public_key_file(path: Path | str) -> Ed25519PublicKey:
    """Read an auditor's copy of the checkpoint public key: 64 hex characters.

    (Written by ``crmguard audit pubkey --out FILE``; whitespace around it is ignored.)
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyFileError(f"public key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not text"
        raise KeyFileError(f"cannot read public key file {path}: {reason}") from None
    try:
        raw = bytes.fromhex(text)
        if len(raw) != KEY_LENGTH:
            raise ValueError
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise KeyFileError(
            f"public key file {path} does not hold a checkpoint public key "
            "(64 hex characters, as printed by `crmguard audit pubkey`)"
        ) from None
