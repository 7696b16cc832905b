"""AES-256-GCM key wrapping shared by the providers that hold a KEK themselves.

The wrap binds the backup id and the key id as associated data, so a wrapped key copied
into another backup's header, or relabelled with another key id, does not unwrap.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def fingerprint(kind: str, kek: bytes) -> str:
    """A public key id: a short hash of the KEK under a fixed label (never the key)."""
    digest = hashlib.sha256(b"crmguard-kek-id\0" + kek).hexdigest()[:16]
    return f"{kind}:{digest}"


def _aad(backup_id: str, key_id: str) -> bytes:
    return b"crmguard-dek\0" + backup_id.encode() + b"\0" + key_id.encode()


def wrap(kek: bytes, data_key: bytes, backup_id: str, key_id: str) -> bytes:
    """Nonce followed by the GCM ciphertext of the data key."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, _aad(backup_id, key_id))


def unwrap(kek: bytes, blob: bytes, backup_id: str, key_id: str) -> bytes | None:
    """The data key, or None when this KEK did not wrap the blob."""
    try:
        return AESGCM(kek).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(backup_id, key_id))
    except (InvalidTag, ValueError):
        return None
