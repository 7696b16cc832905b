"""The pluggable parts of the backup room: stores and key-encryption-key providers.

A backup is made of a few named objects; a :class:`Store` only has to put, get, list and
delete them, which is all that a local folder and S3 have in common. A
:class:`KeyProvider` only wraps and unwraps a per-backup data key, so a key file, a
passphrase and a cloud KMS are interchangeable and the data never depends on which one
was used (that is what makes ``keys rotate`` cheap).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

Progress = Callable[[int], None]
"""Called with a number of bytes just processed; drives progress bars."""


def no_progress(_n: int) -> None:
    """The default progress callback: does nothing."""


@dataclass(frozen=True)
class ObjectInfo:
    """One object in a store."""

    key: str
    size: int
    locked_until: datetime | None = None


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted under a key-encryption key, plus what is needed to unwrap it.

    ``params`` holds only public values (KDF salt and costs, KMS key ARN): never secrets.
    """

    provider: str
    key_id: str
    blob: bytes
    params: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerHead:
    """The last entry of the audit ledger at snapshot time."""

    seq: int
    hash: str


@dataclass(frozen=True)
class LedgerCheck:
    """The outcome of verifying the ledger inside a restored backup."""

    ok: bool
    checked: int
    problem: str | None = None


LedgerHeadFn = Callable[[str], LedgerHead | None]
"""Reads the ledger head from the database at the given URL (None: no ledger there)."""

LedgerVerifyFn = Callable[[str], LedgerCheck | None]
"""Verifies the ledger in the database at the given URL (None: no ledger there)."""


class Store(abc.ABC):
    """Where backup objects live. Keys are relative, '/'-separated names."""

    name: str = "store"

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the store points, for messages (no credentials)."""

    @abc.abstractmethod
    def put_file(self, key: str, path: Path, progress: Progress = no_progress) -> None:
        """Store the file's content under ``key``; the file may be consumed (moved)."""

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Store a small object (manifests, markers), replacing any previous one."""

    @abc.abstractmethod
    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A readable stream of the object's bytes."""

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The whole content of a small object."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object; missing objects are not an error."""

    def locked_until(self, key: str) -> datetime | None:
        """When the object's write-once retention ends (None: not locked)."""
        return None

    def cleanup_incomplete(self) -> int:
        """Remove what an interrupted upload left behind; returns how many were removed."""
        return 0


class KeyProvider(abc.ABC):
    """Wraps and unwraps per-backup data keys under a key-encryption key (KEK)."""

    @property
    @abc.abstractmethod
    def key_id(self) -> str:
        """A public identifier of the KEK, stored in every header it wraps."""

    @abc.abstractmethod
    def wrap(self, data_key: bytes, backup_id: str) -> WrappedKey:
        """Encrypt ``data_key`` bound to ``backup_id``."""

    @abc.abstractmethod
    def unwrap(self, wrapped: WrappedKey, backup_id: str) -> bytes:
        """Recover the data key or raise :class:`backup.errors.WrongKey`."""
