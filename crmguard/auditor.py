"""The outside auditor's check: the public key and the anchors, no secret at all.

An auditor who holds only the checkpoint public key (handed over at ``init``) and the
anchors (a copy of the anchor file, or read access to the anchor bucket) checks the
database, or an exported file, without the MAC key that would let them forge entries.
The proof reaches as far as the last anchor: entries after it are reported, not proven.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from audit import (
    AnchorError,
    VerifyResult,
    load_public_key_file,
    verify_chain,
    verify_export,
)
from crmguard.app import open_engine
from crmguard.errors import CrmguardError
from crmguard.ledger_anchors import anchor_vouches, sources_in, store_for
from crmguard.settings import Settings


def auditor_verify(
    settings: Settings,
    pubkey_file: Path,
    sources: Sequence[str],
    export: Path | None = None,
    s3_endpoint_url: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Verify the home's database (or ``export``) against the anchors in ``sources``."""
    if not sources:
        raise AnchorError(
            "give the anchors to check against: --anchors FILE|DIR|s3://BUCKET/PREFIX"
        )
    trusted = load_public_key_file(pubkey_file)
    stores = [store_for(s, None, s3_endpoint_url) for src in sources for s in sources_in(src)]
    vouches, notes = anchor_vouches(stores, trusted, strict=True)
    if export is not None:
        try:
            with export.open(encoding="utf-8") as fh:
                result = verify_export(fh, None, vouches)
        except FileNotFoundError:
            raise CrmguardError(f"ledger export {export} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise CrmguardError(f"cannot read ledger export {export}: {reason}") from None
    else:
        engine = open_engine(settings)
        try:
            result = verify_chain(engine, None, trusted, progress, vouches=vouches)
        finally:
            engine.dispose()
    if not vouches:
        notes.append("no anchor was found: nothing is proven beyond the chain's own links")
    return replace(result, notes=(*notes, *result.notes))
