"""Secrets: Argon2id password hashes, random tokens and their SHA-256 digests.

A token or session id is 32 random bytes: guessing one is hopeless, so a fast hash is
enough to make the stored value useless to whoever reads the table, and it lets the
lookup be an index seek. Comparisons of secrets are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _random
from typing import Final

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: Prefix that makes a crmguard token recognisable to secret scanners.
TOKEN_PREFIX: Final = "crmg_"  # noqa: S105 - a public prefix, not a secret


def new_secret(prefix: str = TOKEN_PREFIX) -> str:
    """A fresh 256-bit random secret, URL-safe, with a recognisable prefix."""
    return prefix + _random.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """SHA-256 hex digest of a high-entropy secret (what is stored)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_secret(a: str, b: str) -> bool:
    """Constant-time equality of two digests."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class PasswordHasher:
    """Argon2id with the library's recommended (RFC 9106 low-memory) parameters.

    ``dummy_verify`` spends the same time on an unknown username as on a known one, so
    the answer's timing does not tell which usernames exist.
    """

    def __init__(self, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4) -> None:
        self._hasher = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy: str | None = None  # made on first use: hashing costs ~0.1 s

    def hash(self, password: str) -> str:
        return str(self._hasher.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def dummy_verify(self, password: str) -> None:
        if self._dummy is None:
            self._dummy = str(self._hasher.hash(_random.token_hex(16)))
        self.verify(self._dummy, password)
