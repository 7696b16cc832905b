"""Key-encryption-key providers: a key file, a passphrase (Argon2id), AWS KMS."""

from typing import TYPE_CHECKING, Any

from backup.keys.file import FileKeyProvider, init_key_file, read_key_file
from backup.keys.passphrase import KdfParams, PassphraseKeyProvider

if TYPE_CHECKING:
    from backup.keys.kms import KmsKeyProvider


def __getattr__(name: str) -> Any:
    """The KMS provider loads botocore: only for those who use it."""
    if name in {"KmsKeyProvider"}:
        import importlib

        return getattr(importlib.import_module("backup.keys.kms"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FileKeyProvider",
    "KdfParams",
    "KmsKeyProvider",
    "PassphraseKeyProvider",
    "init_key_file",
    "read_key_file",
]
