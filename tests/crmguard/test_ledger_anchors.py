"""The shell's anchor wiring: a home made by init anchors on shutdown, and verification
also hears what the backup manifests remember of the ledger."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from audit import AuditEvent, verify_chain
from crmguard.app import open_app
from crmguard.backups import run_backup
from crmguard.home import init_home
from crmguard.ledger_anchors import home_vouches, public_key
from crmguard.settings import Settings
from tests.audit.audit_helpers import drop_guards


def test_backups_vouch_for_the_head_they_saw(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "home", env={})
    assert init_home(settings).public_key is not None  # the public key, shown once
    crm_app = open_app(settings)
    for i in range(6):
        crm_app.ledger.append(AuditEvent("alice", "view", "contact", (i,)))
    crm_app.close()
    result = run_backup(settings)
    vouches, notes = home_vouches(settings)
    from_backup = [v for v in vouches if v.source == f"backup {result.backup_id}"]
    assert [(v.seq, v.outside) for v in from_backup] == [(6, True)]
    assert any("backups record the ledger head" in n for n in notes)
    # Cut the tail and the checkpoints, and lose the anchor file's memory of it too:
    # the backup's manifest alone still knows entry 6 existed.
    engine = create_engine(settings.database_url)
    drop_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_ledger WHERE seq > 4"))
        conn.execute(text("DELETE FROM audit_checkpoints"))
    only_backups = [v for v in vouches if v.source.startswith("backup ")]
    found = verify_chain(engine, None, public_key(settings), vouches=only_backups)
    assert (found.ok, found.kind, found.first_bad_seq) == (False, "rolled_back", 5)
    assert f"backup {result.backup_id}" in (found.problem or "")
    engine.dispose()
