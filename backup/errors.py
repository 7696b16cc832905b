"""Errors of the backup room.

Each error says, on one line, what went wrong and what a person can do about it; the
CLI prints ``str(error)`` and exits with :attr:`BackupError.exit_code`. Verification
distinguishes "the backup is bad" (exit 1) from "the check could not run" (exit 2), so
a scheduled drill can tell a corrupted backup from an unreachable bucket.
"""

from __future__ import annotations


class BackupError(Exception):
    """Base of the backup room's errors: a one-line message a person can act on."""

    exit_code = 2
    #: The HTTP status the API answers with (a failed backup step is the server's: 500).
    http_status = 500


class BackupCorrupt(BackupError):
    """A stored backup failed a check: a chunk, a hash, a manifest or the restored data."""

    exit_code = 1


class WrongKey(BackupError):
    """The key at hand is not the one that wrapped this backup's data key."""

    http_status = 409

    def __init__(self, backup_id: str, wanted: str, have: str) -> None:
        super().__init__(
            f"backup {backup_id} was encrypted under key {wanted}, but the configured key is "
            f"{have}; point CRMGUARD_BACKUP_KEY_FILE (or the passphrase) at that key"
        )
        self.backup_id = backup_id
        self.wanted = wanted
        self.have = have


class KeyMissing(BackupError):
    """No key-encryption key is configured or the key file cannot be read."""

    http_status = 503


class StoreError(BackupError):
    """The store refused an operation (permissions, full disk, missing object)."""

    http_status = 502


class StoreUnavailable(StoreError):
    """The store cannot be reached right now; the work may be retried later."""

    http_status = 503


class BackupNotFound(BackupError):
    """No complete backup has that id."""

    http_status = 404

    def __init__(self, backup_id: str) -> None:
        super().__init__(f"no complete backup with id {backup_id!r} (see: crmguard backup list)")
        self.backup_id = backup_id


class TargetNotEmpty(BackupError):
    """A restore would overwrite a database that holds data."""

    http_status = 409


class TargetError(BackupError):
    """The restore target could not be written (full disk, permissions); what was there
    before is untouched."""


class SnapshotError(BackupError):
    """The database could not be snapshotted or restored by its engine's tools."""
