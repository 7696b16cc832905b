"""The shell's wiring of the ledger's anchors: keys, stores and outside evidence.

Here, and only here, the settings become anchor stores (the anchor file always; S3 and
syslog when named), the checkpoint signing key becomes an anchorer on every ledger the
application opens, and the evidence kept outside the database (anchors, the ledger
heads recorded in backup manifests) is gathered for ``audit verify``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine

from audit import (
    Anchorer,
    AnchorError,
    AnchorStore,
    FileAnchors,
    Ledger,
    S3Anchors,
    SyslogAnchors,
    Vouch,
    create_signing_key_file,
    load_key_file,
    load_signing_key_file,
    public_key_hex,
)
from audit.anchor_s3 import make_client, parse_url
from crmguard.settings import Settings

log = structlog.get_logger("crmguard.anchors")


def ensure_signing_key(settings: Settings) -> str | None:
    """Create the checkpoint signing key and the anchor file if missing.

    Returns the new public key (hex) when a key was made, so it can be shown to the
    owner once, for the auditors; None when the key was already there.
    """
    created = None
    if not settings.signing_key_file.exists():
        created = create_signing_key_file(settings.signing_key_file)
    public = load_signing_key_file(settings.signing_key_file).public_key()
    FileAnchors(settings.anchors.file, public).create()
    return created


def public_key(settings: Settings) -> Ed25519PublicKey:
    """The checkpoint public key (what auditors keep), from the home's signing key."""
    return load_signing_key_file(settings.signing_key_file).public_key()


def public_key_text(settings: Settings) -> str:
    return public_key_hex(public_key(settings))


def build_stores(settings: Settings, public: Ed25519PublicKey) -> list[AnchorStore]:
    """The anchor file, then S3 and syslog when configured."""
    a = settings.anchors
    stores: list[AnchorStore] = [FileAnchors(a.file, public)]
    if a.s3_bucket:
        client = make_client(a.s3_endpoint_url, a.s3_region)
        stores.append(S3Anchors(client, a.s3_bucket, a.s3_prefix, public, a.s3_retention_days))
    if a.syslog:
        stores.append(SyslogAnchors(a.syslog))
    return stores


def open_ledger(
    settings: Settings, engine: Engine, clock: Callable[[], datetime] | None = None
) -> Ledger:
    """The home's ledger with anchoring on (N events / T seconds / at :meth:`Ledger.close`)."""
    signing = load_signing_key_file(settings.signing_key_file)
    a = settings.anchors
    anchorer = Anchorer(
        engine,
        signing,
        build_stores(settings, signing.public_key()),
        every=a.every,
        seconds=a.seconds,
    )
    return Ledger(
        engine,
        load_key_file(settings.mac_key_file),
        clock,
        signing_key=signing,
        anchorer=anchorer,
    )


def store_for(source: str, public: Ed25519PublicKey | None, endpoint: str | None) -> AnchorStore:
    """An anchor source as an auditor names it: a file, or ``s3://bucket/prefix``."""
    if source.startswith("s3://"):
        bucket, prefix = parse_url(source)
        return S3Anchors(make_client(endpoint), bucket, prefix, public)
    return FileAnchors(Path(source), public)


def sources_in(path: str) -> list[str]:
    """A directory given as ``--anchors`` means every anchor file in it."""
    p = Path(path)
    if path.startswith("s3://") or not p.is_dir():
        return [path]
    files = sorted(str(f) for f in p.glob("*.jsonl") if f.is_file())
    if not files:
        raise AnchorError(f"anchor folder {p} holds no anchor files (*.jsonl)")
    return files


def anchor_vouches(
    stores: Sequence[AnchorStore], trusted: Ed25519PublicKey, strict: bool
) -> tuple[list[Vouch], list[str]]:
    """Every readable anchor as a vouch; with ``strict`` False an unreachable S3 is a note.

    A corrupt anchor file, or one of another ledger, is always an error (exit 2).
    """
    vouches: list[Vouch] = []
    notes: list[str] = []
    for store in stores:
        if not store.readable:
            continue
        try:
            anchors = store.load(trusted)
        except AnchorError as exc:
            if strict or isinstance(store, FileAnchors):
                raise
            notes.append(f"not checked: {exc}")
            continue
        where = store.describe()
        vouches.extend(Vouch(a.seq, a.hash, f"the {where}") for a in anchors)
        top = max((a.seq for a in anchors), default=0)
        notes.append(f"{where}: {len(anchors)} anchors, up to entry {top}")
    return vouches, notes


def backup_vouches(settings: Settings) -> tuple[list[Vouch], list[str]]:
    """The ledger heads recorded in backup manifests (readable without the backup key)."""
    from backup import BackupError, list_backups
    from crmguard.backups import build_store

    try:
        entries = list_backups(build_store(settings))
    except BackupError as exc:
        return [], [f"backups not checked: {exc}"]
    vouches = [
        Vouch(e.manifest.ledger.seq, e.manifest.ledger.hash, f"backup {e.backup_id}")
        for e in entries
        if e.manifest.ledger is not None
    ]
    if vouches:
        top = max(v.seq for v in vouches)
        return vouches, [f"{len(vouches)} backups record the ledger head, up to entry {top}"]
    return [], []


def home_vouches(settings: Settings) -> tuple[list[Vouch], list[str]]:
    """What the home's configured anchors and backups remember of the ledger."""
    trusted = public_key(settings)
    vouches, notes = anchor_vouches(build_stores(settings, trusted), trusted, strict=False)
    more, more_notes = backup_vouches(settings)
    return vouches + more, notes + more_notes
