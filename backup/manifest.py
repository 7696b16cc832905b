"""The manifest: what a backup holds, stored beside the data and written last.

A backup is complete only once its manifest exists, so an interrupted run never shows
up as a backup. The manifest body is readable without keys (listing and retention need
no secret) but carries an HMAC under a key derived from the backup's data key, so
``verify`` proves it was written together with the data and not edited since.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backup.errors import BackupCorrupt
from backup.header import Header
from backup.interface import LedgerHead

MANIFEST_FORMAT = 1


def derive(data_key: bytes, label: str) -> bytes:
    """A subkey of the data key for one purpose (chunk encryption, manifest MAC)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(
        data_key
    )


@dataclass(frozen=True)
class Manifest:
    """Facts about one backup. Sizes in bytes; ``tables`` maps table name to row count."""

    backup_id: str
    created_at: datetime
    tool_version: str
    engine: str
    payload: str
    source: str
    plaintext_sha256: str
    plaintext_bytes: int
    compressed_bytes: int
    stored_bytes: int
    chunks: int
    seconds: float
    key_id: str
    tables: dict[str, int] = field(default_factory=dict)
    ledger: LedgerHead | None = None

    def body(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return data

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Manifest:
        ledger = body.get("ledger")
        return cls(
            backup_id=str(body["backup_id"]),
            created_at=datetime.fromisoformat(body["created_at"]),
            tool_version=str(body["tool_version"]),
            engine=str(body["engine"]),
            payload=str(body["payload"]),
            source=str(body["source"]),
            plaintext_sha256=str(body["plaintext_sha256"]),
            plaintext_bytes=int(body["plaintext_bytes"]),
            compressed_bytes=int(body["compressed_bytes"]),
            stored_bytes=int(body["stored_bytes"]),
            chunks=int(body["chunks"]),
            seconds=float(body["seconds"]),
            key_id=str(body["key_id"]),
            tables={str(k): int(v) for k, v in body["tables"].items()},
            ledger=LedgerHead(int(ledger["seq"]), str(ledger["hash"])) if ledger else None,
        )


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ManifestRecord:
    """A manifest object as stored: header, manifest body and its MAC."""

    header: Header
    manifest: Manifest
    mac: str

    def encode(self) -> bytes:
        doc = {
            "crmguard_backup": MANIFEST_FORMAT,
            "header": base64.b64encode(self.header.encode()).decode(),
            "manifest": self.manifest.body(),
            "mac": self.mac,
        }
        return json.dumps(doc, indent=1, sort_keys=True).encode()

    @classmethod
    def seal(cls, header: Header, manifest: Manifest, data_key: bytes) -> ManifestRecord:
        return cls(header, manifest, mac_of(manifest, data_key))

    @classmethod
    def decode(cls, raw: bytes, where: str) -> ManifestRecord:
        try:
            doc = json.loads(raw)
            if doc.get("crmguard_backup") != MANIFEST_FORMAT:
                raise BackupCorrupt(f"{where}: unsupported manifest format")
            header = Header.decode(base64.b64decode(doc["header"], validate=True), where)
            manifest = Manifest.from_body(doc["manifest"])
            mac = str(doc["mac"])
        except BackupCorrupt:
            raise
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BackupCorrupt(f"{where}: manifest is damaged (unreadable)") from None
        if manifest.backup_id != header.backup_id:
            raise BackupCorrupt(f"{where}: manifest and header name different backups")
        return cls(header, manifest, mac)

    def check(self, data_key: bytes) -> None:
        """Raise BackupCorrupt unless the MAC proves the manifest is the one written."""
        if not hmac.compare_digest(self.mac, mac_of(self.manifest, data_key)):
            raise BackupCorrupt(
                f"backup {self.manifest.backup_id}: manifest failed authentication (edited)"
            )


def mac_of(manifest: Manifest, data_key: bytes) -> str:
    return hmac.new(
        derive(data_key, "crmguard-manifest"), _canonical(manifest.body()), hashlib.sha256
    ).hexdigest()
