"""Errors of the audit ledger.

Each error's ``str()`` is one line a person can act on; the CLI prints it and exits with
:attr:`AuditError.exit_code`. Messages never carry key material or the content of an
event (record ids and details may be personal data).
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of every error the audit room raises."""

    exit_code = 2
    #: The HTTP status the API answers with (the ledger is part of the service: 503).
    http_status = 503


class InvalidEvent(AuditError):
    """The caller handed in an event that cannot be recorded faithfully."""

    http_status = 500


class LedgerWriteError(AuditError):
    """The database refused to store an event; the caller must not release any data.

    Raised instead of swallowing the failure so that a guarded read fails closed: if the
    ledger cannot say who looked, nobody gets to look.
    """

    def __init__(self, cause: str) -> None:
        super().__init__(f"the audit ledger refused the write ({cause}); nothing was returned")
        self.cause = cause


class LedgerReadError(AuditError):
    """The ledger could not be read (database unreachable, table missing)."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"cannot read the audit ledger: {cause}")
        self.cause = cause


class KeyFileError(AuditError):
    """A key file is missing, exposed to other users, or malformed."""


class CheckpointError(AuditError):
    """A checkpoint cannot be written (no signing key, empty ledger, database refusal)."""


class AnchorError(AuditError):
    """An anchor store cannot be trusted as given: corrupt, of another ledger, unreadable.

    Verification cannot run on anchors it cannot trust, so this is exit 2, never a
    verdict on the ledger.
    """


class AnchorUnavailable(AnchorError):
    """An anchor store cannot be reached right now; publishing retries later."""


class SchemaError(AuditError):
    """The database dialect has no append-only guards in this package."""


def one_line(exc: BaseException) -> str:
    """The first line of a database error, without the statement or its parameters.

    SQLAlchemy's ``str()`` appends the SQL and bound values, which may contain record
    ids; the driver's own first line names the cause (read-only file, trigger message,
    lost connection) and nothing else.
    """
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    first = text.splitlines()[0].strip() if text else ""
    return first or exc.__class__.__name__


class ArchiveError(AuditError):
    """An archive step could not be done safely; nothing was removed from the ledger."""
