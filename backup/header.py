"""The backup header: format version, cipher, chunk size and the wrapped data key.

The header is kept in the manifest object rather than in front of the data, so that
``keys rotate`` rewrites a few hundred bytes per backup and never the data itself. Its
integrity needs no MAC of its own: the wrapped key is bound to the backup id and key id,
so any edit makes the unwrap fail, and every other field is checked against the data.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass

from backup.chunks import MAX_CHUNK
from backup.errors import BackupCorrupt
from backup.interface import WrappedKey
from backup.keys.passphrase import kdf_params

HEADER_MAGIC = b"CRMGHDR\x01"
FORMAT_VERSION = 1
CIPHER = "AES-256-GCM"
COMPRESSION = "zstd"
_LEN = struct.Struct(">HI")
MIN_CHUNK = 1024


@dataclass(frozen=True)
class Header:
    """Everything needed to turn the data object back into plaintext, given the KEK."""

    backup_id: str
    chunk_size: int
    wrapped: WrappedKey
    version: int = FORMAT_VERSION
    cipher: str = CIPHER
    compression: str = COMPRESSION

    def encode(self) -> bytes:
        body = {
            "backup_id": self.backup_id,
            "cipher": self.cipher,
            "compression": self.compression,
            "chunk_size": self.chunk_size,
            "key": {
                "provider": self.wrapped.provider,
                "key_id": self.wrapped.key_id,
                "params": dict(self.wrapped.params),
                "wrapped": base64.b64encode(self.wrapped.blob).decode(),
            },
        }
        raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        return HEADER_MAGIC + _LEN.pack(self.version, len(raw)) + raw

    @classmethod
    def decode(cls, data: bytes, where: str) -> Header:
        """Parse a header; ``where`` names the backup in error messages."""
        if not data.startswith(HEADER_MAGIC) or len(data) < len(HEADER_MAGIC) + _LEN.size:
            raise BackupCorrupt(f"{where}: not a crmguard backup header (bad magic)")
        version, length = _LEN.unpack_from(data, len(HEADER_MAGIC))
        if version != FORMAT_VERSION:
            raise BackupCorrupt(
                f"{where}: header format version {version} is not supported "
                f"(this tool reads version {FORMAT_VERSION}; upgrade crmguard)"
            )
        raw = data[len(HEADER_MAGIC) + _LEN.size :]
        if len(raw) != length:
            raise BackupCorrupt(f"{where}: header length mismatch (truncated header)")
        try:
            body = json.loads(raw)
            key = body["key"]
            header = cls(
                backup_id=str(body["backup_id"]),
                chunk_size=int(body["chunk_size"]),
                cipher=str(body["cipher"]),
                compression=str(body["compression"]),
                version=version,
                wrapped=WrappedKey(
                    provider=str(key["provider"]),
                    key_id=str(key["key_id"]),
                    params={str(k): v for k, v in key["params"].items()},
                    blob=base64.b64decode(key["wrapped"], validate=True),
                ),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BackupCorrupt(f"{where}: header is damaged (unreadable fields)") from None
        if header.cipher != CIPHER or header.compression != COMPRESSION:
            raise BackupCorrupt(f"{where}: unsupported cipher/compression in header")
        if not MIN_CHUNK <= header.chunk_size <= MAX_CHUNK:
            raise BackupCorrupt(f"{where}: chunk size {header.chunk_size} is out of bounds")
        if header.wrapped.provider == "passphrase":
            kdf_params(header.wrapped.params, where)  # bounded before anything allocates
        return header
