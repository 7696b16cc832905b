"""A key-encryption key derived from a passphrase with Argon2id (memory-hard).

A fresh salt per backup is stored with the KDF costs in the header, so the costs can be
raised later without breaking old backups. The key id names the salt, not the secret:
two backups made with the same passphrase have different KEKs, and a wrong passphrase
is reported against the key id it failed to open.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw

from backup.errors import BackupCorrupt, BackupError, KeyMissing, WrongKey
from backup.interface import KeyProvider, WrappedKey
from backup.keys import aead

SALT_BYTES = 16
MAX_TIME_COST = 16
MAX_MEMORY_KIB = 512 * 1024
"""Argon2id memory is allocated by the reader: a crafted header asking for gigabytes
must be refused before any allocation (the default is 64 MiB; 8x that is the ceiling)."""
MAX_PARALLELISM = 16


@dataclass(frozen=True)
class KdfParams:
    """Argon2id costs: time (passes), memory in KiB, lanes."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 2


def kdf_params(params: Mapping[str, Any], where: str) -> tuple[bytes, int, int, int]:
    """Salt, time, memory and lanes from a header, refused unless within the bounds."""
    try:
        salt = bytes.fromhex(str(params["salt"]))
        t = int(params["time_cost"])
        m = int(params["memory_kib"])
        p = int(params["parallelism"])
    except (KeyError, ValueError, TypeError):
        raise BackupCorrupt(f"{where}: the header's KDF parameters are damaged") from None
    if params.get("kdf", "argon2id") != "argon2id":
        raise BackupCorrupt(f"{where}: unknown KDF {params.get('kdf')!r} in the header")
    if not (
        8 <= len(salt) <= 64
        and 1 <= t <= MAX_TIME_COST
        and 8 * p <= m <= MAX_MEMORY_KIB
        and 1 <= p <= MAX_PARALLELISM
    ):
        raise BackupCorrupt(
            f"{where}: refusing Argon2id parameters out of bounds (time {t}, memory {m} KiB, "
            f"lanes {p}, salt {len(salt)} bytes; at most time {MAX_TIME_COST}, memory "
            f"{MAX_MEMORY_KIB} KiB, lanes {MAX_PARALLELISM}): the header is damaged or crafted"
        )
    return salt, t, m, p


class PassphraseKeyProvider(KeyProvider):
    """Derives a KEK per salt from a passphrase; caches derivations within the process."""

    def __init__(self, passphrase: str, params: KdfParams = KdfParams()) -> None:
        if not passphrase:
            raise KeyMissing("the backup passphrase is empty (set CRMGUARD_BACKUP_PASSPHRASE)")
        self._secret = passphrase.encode()
        self.params = params
        self._cache: dict[tuple[bytes, int, int, int], bytes] = {}

    @property
    def key_id(self) -> str:
        return "passphrase:argon2id"

    def _derive(self, salt: bytes, t: int, m: int, p: int) -> bytes:
        if not (1 <= t <= MAX_TIME_COST and 8 * p <= m <= MAX_MEMORY_KIB and 1 <= p <= 16):
            raise BackupError(f"refusing unreasonable Argon2id parameters t={t} m={m} p={p}")
        cache_key = (salt, t, m, p)
        if cache_key not in self._cache:
            self._cache[cache_key] = hash_secret_raw(
                self._secret,
                salt,
                time_cost=t,
                memory_cost=m,
                parallelism=p,
                hash_len=32,
                type=Type.ID,
            )
        return self._cache[cache_key]

    def wrap(self, data_key: bytes, backup_id: str) -> WrappedKey:
        salt = os.urandom(SALT_BYTES)
        p = self.params
        kek = self._derive(salt, p.time_cost, p.memory_kib, p.parallelism)
        key_id = f"passphrase:{salt.hex()[:12]}"
        return WrappedKey(
            provider="passphrase",
            key_id=key_id,
            blob=aead.wrap(kek, data_key, backup_id, key_id),
            params={
                "kdf": "argon2id",
                "salt": salt.hex(),
                "time_cost": p.time_cost,
                "memory_kib": p.memory_kib,
                "parallelism": p.parallelism,
            },
        )

    def unwrap(self, wrapped: WrappedKey, backup_id: str) -> bytes:
        if wrapped.provider != "passphrase":
            raise WrongKey(backup_id, wrapped.key_id, "a passphrase")
        salt, t, m, p = kdf_params(wrapped.params, f"backup {backup_id}")
        key = aead.unwrap(self._derive(salt, t, m, p), wrapped.blob, backup_id, wrapped.key_id)
        if key is None:
            raise WrongKey(
                backup_id, wrapped.key_id, "the configured passphrase (it does not match)"
            )
        return key
