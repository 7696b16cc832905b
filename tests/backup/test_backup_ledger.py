"""The shell's ledger callbacks: the manifest carries the ledger head, verify checks it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from audit import AuditEvent, Ledger, create_key_file, create_tables, load_key_file
from backup import init_key_file, load_record
from crmguard import backups
from crmguard.settings import Settings


def test_manifest_has_ledger_head_and_verify_runs_ledger_verify(
    db_url: str, tmp_path: Path
) -> None:
    s = Settings.load(tmp_path, env={"CRMGUARD_DATABASE_URL": db_url})
    create_key_file(s.mac_key_file)
    init_key_file(s.backup.key_file)
    engine = create_engine(db_url)
    create_tables(engine)
    ledger = Ledger(engine, load_key_file(s.mac_key_file))
    for i in range(3):
        ledger.append(AuditEvent(actor="boss", action="export", resource="contacts", count=i))
    head = ledger.head()
    engine.dispose()
    result = backups.run_backup(s)
    assert head is not None
    assert (result.manifest.ledger.seq, result.manifest.ledger.hash) == head  # type: ignore[union-attr]
    report = backups.verify(s, result.backup_id)
    assert report.ok, report.problem
    assert report.ledger is not None and report.ledger.checked == 3
    assert (
        load_record(backups.build_store(s), result.backup_id).manifest.tables["audit_ledger"] == 3
    )
