"""Key-encryption-key providers: a key file, a passphrase (Argon2id), AWS KMS."""

from backup.keys.file import FileKeyProvider, init_key_file, read_key_file
from backup.keys.kms import KmsKeyProvider
from backup.keys.passphrase import KdfParams, PassphraseKeyProvider

__all__ = [
    "FileKeyProvider",
    "KdfParams",
    "KmsKeyProvider",
    "PassphraseKeyProvider",
    "init_key_file",
    "read_key_file",
]
