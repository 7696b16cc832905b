"""Schedule: missed runs run at start, failures and overdue runs are recorded; the shell
wiring builds the S3 store from the documented environment variables."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from backup_helpers import fill_crm

from backup import S3Store, init_key_file, list_backups
from crmguard import backups, schedule
from crmguard.settings import Settings


def settings_for(home: Path, **env: str) -> Settings:
    return Settings.load(home, env={"CRMGUARD_DATABASE_URL": f"sqlite:///{home / 'crm.db'}", **env})


def test_missed_run_runs_once_at_start_and_failures_are_recorded(tmp_path: Path) -> None:
    s = settings_for(tmp_path)  # backup at 02:00 daily, drill Sundays 04:00
    calls: list[str] = []

    def ok(_s: Settings) -> str:
        calls.append("backup")
        return "b1"

    def broken(_s: Settings) -> str:
        calls.append("drill")
        raise RuntimeError("no backup to verify")

    runners = {"backup": ok, "drill": broken}
    # the machine was off at 02:00 on Monday 2025-03-03; it starts at 09:00
    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    results = schedule.run_due_jobs(s, start, runners)
    assert {(r.job, r.ok) for r in results} == {("backup", True), ("drill", False)}
    assert results[0].scheduled_for == datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    assert schedule.run_due_jobs(s, start.replace(hour=10), runners) == []  # not twice
    status = {j.job: j for j in schedule.status(s, start.replace(hour=10))}
    assert status["backup"].last_success == start and not status["backup"].overdue
    assert status["drill"].last_error == "no backup to verify"
    assert status["drill"].overdue  # Sunday's drill never succeeded
    assert status["backup"].next_run == datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
    assert calls == ["backup", "drill"]


def test_a_new_home_is_never_run_not_overdue(tmp_path: Path) -> None:
    s = settings_for(tmp_path)
    # created Monday 08:00, after the 02:00 slot: nothing has been missed yet
    schedule.mark_created(s, datetime(2025, 3, 3, 8, tzinfo=UTC))
    status = {j.job: j for j in schedule.status(s, datetime(2025, 3, 3, 9, tzinfo=UTC))}
    assert status["backup"].never_run and not status["backup"].overdue
    assert status["drill"].never_run and not status["drill"].overdue
    # a day later the 02:00 slot of Tuesday passed with no backup: overdue
    status = {j.job: j for j in schedule.status(s, datetime(2025, 3, 4, 9, tzinfo=UTC))}
    assert status["backup"].overdue and status["backup"].last_success is None
    assert status["backup"].scheduled_for == datetime(2025, 3, 4, 2, tzinfo=UTC)


def test_a_manual_success_counts(tmp_path: Path) -> None:
    s = settings_for(tmp_path)
    schedule.mark_created(s, datetime(2025, 3, 1, tzinfo=UTC))
    schedule.note_outcome(s, "backup", datetime(2025, 3, 4, 7, tzinfo=UTC), True, "b1")
    status = {j.job: j for j in schedule.status(s, datetime(2025, 3, 4, 9, tzinfo=UTC))}
    assert not status["backup"].overdue and not status["backup"].never_run
    assert status["drill"].overdue  # Sunday's drill slot passed without one
    # the daemon does not run a slot that a manual run already covered
    assert "backup" not in schedule.due_jobs(s, datetime(2025, 3, 4, 9, tzinfo=UTC))


def test_env_settings_send_backups_to_s3(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    init_key_file(tmp_path / "k.key")
    s = settings_for(
        tmp_path,
        CRMGUARD_BACKUP_S3_BUCKET=bucket,
        CRMGUARD_BACKUP_S3_PREFIX="acme/",
        CRMGUARD_BACKUP_S3_ENDPOINT_URL=s3_endpoint,
        CRMGUARD_BACKUP_KEY_FILE=str(tmp_path / "k.key"),
    )
    fill_crm(s.database_url)
    store = backups.build_store(s)
    assert isinstance(store, S3Store) and store.describe() == f"s3://{bucket}/acme/"
    result = backups.run_backup(s)
    assert [e.backup_id for e in list_backups(store)] == [result.backup_id]
    assert result.manifest.ledger is None  # no ledger table in this database
    report = backups.verify(s, result.backup_id)
    assert report.ok and report.ledger is None


def test_default_runners_make_and_drill_a_local_backup(tmp_path: Path) -> None:
    s = settings_for(tmp_path)
    init_key_file(s.backup.key_file)
    fill_crm(s.database_url)
    results = schedule.run_due_jobs(s, datetime(2025, 3, 3, 9, tzinfo=UTC))
    assert [(r.job, r.ok) for r in results] == [("backup", True), ("drill", True)]
    entries = list_backups(backups.build_store(s))
    assert len(entries) == 1 and entries[0].verified_at is not None
