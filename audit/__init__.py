"""The audit ledger: append-only, a public hash chain sealed with HMAC-SHA256, anchored.

Every access to client data is appended here before any byte leaves; the database
refuses UPDATE, DELETE and TRUNCATE on the ledger, signed anchors outside the database
remember how far it reached, and :meth:`Ledger.verify` shows the first entry that was
altered, removed, inserted or forged, or that the tail or the whole table is gone.
"""

from audit.anchor_file import FileAnchors
from audit.anchor_s3 import S3Anchors
from audit.anchor_syslog import SyslogAnchors
from audit.anchoring import Anchorer
from audit.anchors import Anchor, AnchorStore
from audit.archive import ArchiveManifest, Segment
from audit.chain import canonical, dumps, link, mac, seal
from audit.errors import (
    AnchorError,
    AnchorUnavailable,
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
    TamperKind,
    VerifyResult,
    Vouch,
    format_ts,
    parse_ts,
)
from audit.keys import (
    create_key_file,
    create_signing_key_file,
    load_key_file,
    load_public_key_file,
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
from audit.verify import verify_chain

__all__ = [
    "CHANNELS",
    "GENESIS_HASH",
    "OUTCOMES",
    "ActivityDay",
    "Anchor",
    "AnchorError",
    "AnchorStore",
    "AnchorUnavailable",
    "Anchorer",
    "ArchiveError",
    "ArchiveManifest",
    "AuditError",
    "AuditEvent",
    "Channel",
    "Checkpoint",
    "CheckpointError",
    "FileAnchors",
    "InvalidEvent",
    "KeyFileError",
    "Ledger",
    "LedgerEntry",
    "LedgerReadError",
    "LedgerWriteError",
    "Outcome",
    "S3Anchors",
    "SchemaError",
    "Segment",
    "SyslogAnchors",
    "TamperKind",
    "VerifyResult",
    "Vouch",
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
    "link",
    "load_key_file",
    "load_public_key_file",
    "load_signing_key_file",
    "mac",
    "metadata",
    "parse_ts",
    "public_key_hex",
    "qualified_id",
    "seal",
    "verify_chain",
    "verify_export",
]
