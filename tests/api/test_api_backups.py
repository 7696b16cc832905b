"""Backups over HTTP: the owner runs, lists and verifies; a rep is refused; each call
is in the ledger."""

from __future__ import annotations

from pathlib import Path

from backup.keys.file import init_key_file
from tests.api.server import serving
from tests.crmguard.world import World


def test_backup_run_list_verify_over_http(world: World, tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_key_file(home / "keys" / "backup.key")
    with serving(world, home) as s:
        d = world.data
        with s.client(d.rep_same_team) as rep:
            assert rep.post("/api/backups/run").status_code == 403
        with s.client(d.owner) as owner:
            r = owner.post("/api/backups/run")
            assert r.status_code == 201, r.text
            backup_id = r.json()["id"]
            listed = owner.get("/api/backups").json()
            assert backup_id in {b["id"] for b in listed}
            r = owner.post(f"/api/backups/{backup_id}/verify")
            assert r.status_code == 200 and r.json()["ok"], r.text
            assert owner.post("/api/backups/no-such-backup/verify").status_code == 404
            assert owner.get("/api/backups/status").status_code == 200
        actions = [e.action for e in s.app.ledger.entries(resource="backup")]
        assert "backup.run" in actions and "backup.verify" in actions
