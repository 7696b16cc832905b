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
            status = owner.get("/api/backups/status")
            assert status.status_code == 200
            # The same operation as the CLI's: the job's outcome is what status reports.
            jobs = {j["job"]: j for j in status.json()["jobs"]}
            assert jobs["backup"]["last_success"] is not None, jobs
            assert jobs["drill"]["last_success"] is not None, jobs
        runs = [e for e in s.app.ledger.entries(resource="backup") if e.action == "backup.run"]
        assert runs and runs[-1].actor == d.owner and runs[-1].channel == "api"
        assert runs[-1].request_id and runs[-1].details["ledger_head"] is not None
        assert runs[-1].record_ids == (backup_id,)
        verifies = [e for e in s.app.ledger.entries(action="backup.verify")]
        assert {e.outcome for e in verifies} == {"allowed", "error"}  # the good one, the 404
