"""A key-encryption key held by AWS KMS (or a KMS-compatible endpoint).

The data key never leaves the machine in clear: KMS encrypts it, bound to the backup
id through the encryption context, and only a principal allowed to call Decrypt on that
KMS key can restore.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backup.errors import StoreUnavailable, WrongKey
from backup.interface import KeyProvider, WrappedKey


class KmsKeyProvider(KeyProvider):
    """Wraps data keys with KMS Encrypt/Decrypt under ``kms_key_id`` (an id, ARN or alias)."""

    def __init__(self, kms_key_id: str, client: Any) -> None:
        self.kms_key_id = kms_key_id
        self._client = client

    @property
    def key_id(self) -> str:
        return f"kms:{self.kms_key_id}"

    def wrap(self, data_key: bytes, backup_id: str) -> WrappedKey:
        try:
            out = self._client.encrypt(
                KeyId=self.kms_key_id,
                Plaintext=data_key,
                EncryptionContext={"crmguard-backup": backup_id},
            )
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(f"KMS cannot wrap the data key: {exc}") from None
        return WrappedKey(
            provider="kms",
            key_id=f"kms:{out['KeyId']}",
            blob=bytes(out["CiphertextBlob"]),
            params={"kms_key": str(out["KeyId"])},
        )

    def unwrap(self, wrapped: WrappedKey, backup_id: str) -> bytes:
        if wrapped.provider != "kms":
            raise WrongKey(backup_id, wrapped.key_id, self.key_id)
        try:
            out = self._client.decrypt(
                CiphertextBlob=wrapped.blob,
                EncryptionContext={"crmguard-backup": backup_id},
            )
        except ClientError:
            raise WrongKey(backup_id, wrapped.key_id, f"{self.key_id} (KMS refused)") from None
        except BotoCoreError as exc:
            raise StoreUnavailable(f"KMS cannot be reached: {exc}") from None
        return bytes(out["Plaintext"])
