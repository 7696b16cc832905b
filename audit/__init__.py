"""The audit ledger: append-only, hash-chained, keyed with HMAC-SHA256, checkpointed.

Every access to client data is appended here before any byte leaves; the database
refuses UPDATE, DELETE and TRUNCATE on the ledger, and :meth:`Ledger.verify` shows the
first entry that was altered, removed or forged.
"""

from audit.archive import ArchiveManifest, Segment
from audit.chain import canonical, dumps, mac
from audit.errors import (
    ArchiveError,
    AuditError,
    CheckpointError,
    InvalidEvent,
    KeyFileError,
    LedgerReadError,
    LedgerWriteError,
    SchemaError,
)
from audit.events import (
    CHANNELS,
    GENESIS_HASH,
    OUTCOMES,
    ActivityDay,
    AuditEvent,
    Channel,
    Checkpoint,
    LedgerEntry,
    Outcome,
    VerifyResult,
    format_ts,
    parse_ts,
)
from audit.keys import (
    create_key_file,
    create_signing_key_file,
    load_key_file,
    load_signing_key_file,
    public_key_hex,
)
from audit.ledger import Ledger
from audit.offline import verify_export
from audit.query import qualified_id
from audit.schema import (
    audit_checkpoints,
    audit_index_progress,
    audit_ledger,
    audit_record_index,
    create_tables,
    install_append_only_guards,
    metadata,
)

__all__ = [
    "CHANNELS",
    "GENESIS_HASH",
    "OUTCOMES",
    "ActivityDay",
    "ArchiveError",
    "ArchiveManifest",
    "AuditError",
    "AuditEvent",
    "Channel",
    "Checkpoint",
    "CheckpointError",
    "InvalidEvent",
    "KeyFileError",
    "Ledger",
    "LedgerEntry",
    "LedgerReadError",
    "LedgerWriteError",
    "Outcome",
    "SchemaError",
    "Segment",
    "VerifyResult",
    "audit_checkpoints",
    "audit_index_progress",
    "audit_ledger",
    "audit_record_index",
    "canonical",
    "create_key_file",
    "create_signing_key_file",
    "create_tables",
    "dumps",
    "format_ts",
    "install_append_only_guards",
    "load_key_file",
    "load_signing_key_file",
    "mac",
    "metadata",
    "parse_ts",
    "public_key_hex",
    "qualified_id",
    "verify_export",
]
