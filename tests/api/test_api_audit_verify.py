"""GET /api/audit/verify over HTTP: the plain check and the deep one (``index=true``),
each recorded in the ledger with which was asked. A reader of their own entries gets
the plain verdict (positions and kinds only: see ``LedgerReads.audit_verify``) but may
not start the deep check, which costs several walks of the whole ledger."""

from __future__ import annotations

from pathlib import Path

from tests.api.server import serving
from tests.crmguard.world import World


def test_verify_plain_and_deep_over_http(world: World, tmp_path: Path) -> None:
    with serving(world, tmp_path / "home") as s:
        s.app.ledger.index_records()  # as the daemon keeps it: the deep check compares it
        d = world.data
        with s.client(d.owner) as owner:
            plain = owner.get("/api/audit/verify")
            assert plain.status_code == 200 and plain.json()["ok"], plain.text
            deep = owner.get("/api/audit/verify", params={"index": "true"})
            assert deep.status_code == 200 and deep.json()["ok"], deep.text
            assert owner.get("/api/audit/verify", params={"index": "maybe"}).status_code == 422
        with s.client(d.support) as support:
            mine = support.get("/api/audit/verify")
            assert mine.status_code == 200 and mine.json()["ok"], mine.text
            assert support.get("/api/audit/verify", params={"index": "true"}).status_code == 403
        asked = [
            e.details["index"]
            for e in s.app.ledger.entries(action="audit.read")
            if e.details.get("kind") == "verify" and e.outcome == "allowed"
        ]
        assert asked == [False, True, False]
        refused = [e for e in s.app.ledger.entries(action="audit.read") if e.outcome == "denied"]
        assert [e.actor for e in refused] == [d.support]  # the refusal is in the ledger too
