"""`crmguard audit verify` on a home made by `crmguard init` (the shipped defaults), on a
real SQLite file and on real PostgreSQL tables: each tampering is exit 1 with its kind
and first bad entry; the outside auditor needs only the public key and the anchors; bad
input is one line naming the file and exit 2."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from audit import AuditEvent
from crmguard.app import open_app
from crmguard.settings import Settings
from tests.audit.audit_helpers import drop_guards
from tests.e2e.cli import run


class Home:
    def __init__(self, path: Path, url: str | None) -> None:
        self.path = path
        self.env = {"CRMGUARD_DATABASE_URL": url} if url else {}

    @property
    def url(self) -> str:
        return self.settings().database_url

    def settings(self) -> Settings:
        return Settings.load(self.path, env=self.env)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(self.path, *args, env=self.env)

    def append(self, n: int, anchor_every: int = 10) -> None:
        """Guarded work as the application does it; anchors as shipped, plus mid-way."""
        crm_app = open_app(self.settings())
        try:
            for i in range(n):
                crm_app.ledger.append(
                    AuditEvent("alice", "view", "contact", (i,), 1, channel="web")
                )
                if (i + 1) % anchor_every == 0 and crm_app.ledger.anchorer:
                    crm_app.ledger.anchorer.anchor_now()
        finally:
            crm_app.close()

    def sql(self, *statements: str) -> None:
        engine = create_engine(self.url)
        drop_guards(engine)
        with engine.begin() as conn:
            for s in statements:
                conn.execute(text(s))
        engine.dispose()

    def verify(self, *extra: str) -> tuple[int, dict[str, object]]:
        result = self.cli("audit", "verify", "--json", *extra)
        assert result.returncode in (0, 1), result.stderr
        return result.returncode, json.loads(result.stdout)

    def names(self, kind: str, seq: int, said: str, printed: str, *extra: str) -> None:
        """verify says ``kind`` at ``seq`` with ``said`` in its problem (exit 1), and the
        plain verify prints the line that starts with ``printed``."""
        code, data = self.verify(*extra)
        assert (code, data["kind"], data["first_bad_seq"]) == (1, kind, seq), data
        assert said in str(data["problem"])
        shown = self.cli("audit", "verify", *extra)
        assert shown.returncode == 1
        assert f"{printed} TAMPERED ({kind}) at seq {seq}" in shown.stdout


@pytest.fixture
def home(db_url: str, tmp_path: Path) -> Home:
    h = Home(tmp_path / "home", None if db_url.startswith("sqlite") else db_url)
    made = h.cli("init")
    assert made.returncode == 0, made.stderr
    assert "public key" in made.stdout
    h.append(30)
    return h


def _altered(h: Home) -> None:
    h.sql("UPDATE audit_ledger SET actor = 'someone-else' WHERE seq = 12")


def _deleted(h: Home) -> None:
    h.sql("DELETE FROM audit_ledger WHERE seq = 12")


def _truncated(h: Home) -> None:
    h.sql("DELETE FROM audit_ledger WHERE seq > 25")


def _emptied(h: Home) -> None:
    h.sql("DELETE FROM audit_ledger", "DELETE FROM audit_checkpoints")


def _dropped(h: Home) -> None:
    h.sql("DROP TABLE audit_ledger")


CASES: dict[str, tuple[Callable[[Home], None], int]] = {
    "altered": (_altered, 12),
    "deleted": (_deleted, 12),
    "truncated": (_truncated, 26),
    "emptied": (_emptied, 1),
    "dropped": (_dropped, 1),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_each_tampering_is_named(home: Home, kind: str) -> None:
    code, data = home.verify()
    assert code == 0 and data["ok"] is True and data["anchored_seq"] == 30
    tamper, first_bad = CASES[kind]
    tamper(home)
    code, data = home.verify()
    assert (code, data["kind"], data["first_bad_seq"]) == (1, kind, first_bad), data


def test_edited_day_totals_are_named(home: Home) -> None:
    """Hiding an export from the owner's activity chart: the chain is intact, the totals
    lie, and verify says which user, day and action (exit 1, kind miscounted)."""
    from datetime import UTC, datetime, timedelta

    from audit import Ledger, load_key_file
    from crmguard.app import open_engine

    settings = home.settings()
    engine = open_engine(settings)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    past = Ledger(engine, load_key_file(settings.mac_key_file), clock=lambda: yesterday)
    past.append(AuditEvent("mallory", "export", "contact", tuple(range(500)), 500))
    engine.dispose()
    shown = home.cli("audit", "activity", "mallory", "--json")  # sums the ended day
    assert shown.returncode == 0 and '"records": 500' in shown.stdout, shown.stderr
    code, data = home.verify()
    assert code == 0, data
    home.sql("UPDATE audit_day_totals SET events = 0, records = 0 WHERE actor = 'mallory'")
    home.names("miscounted", 31, "mallory", "day totals")


def test_a_read_hidden_from_the_record_index_is_named(home: Home) -> None:
    """Someone opens contact 7 and then deletes the index row that shows it to the
    owner's "who viewed contact 7": the chain is intact, the index lies, and verify says
    which entry (exit 1, kind misindexed) when asked for the deep check (--index)."""
    from audit import Ledger, load_key_file
    from crmguard.app import open_engine

    settings = home.settings()
    engine = open_engine(settings)
    Ledger(engine, load_key_file(settings.mac_key_file)).append(
        AuditEvent("mallory", "view", "contact", (7,), 1, channel="web")
    )
    engine.dispose()

    def viewers() -> list[str]:
        shown = home.cli("audit", "log", "--record", "contact:7", "--json")
        assert shown.returncode == 0, shown.stderr
        return [json.loads(line)["actor"] for line in shown.stdout.splitlines()]

    assert sorted(viewers()) == ["alice", "mallory"]  # catches the index up
    code, data = home.verify("--index")
    assert code == 0, data
    home.sql("DELETE FROM audit_record_index WHERE seq = 31")
    assert viewers() == ["alice"]
    assert home.verify()[0] == 0  # the deep check is asked for: --index
    home.names("misindexed", 31, "lacks contact 7 for entry 31 (mallory", "record index", "--index")


def test_a_database_put_back_to_an_older_copy(db_url: str, tmp_path: Path) -> None:
    h = Home(tmp_path / "home", None if db_url.startswith("sqlite") else db_url)
    assert h.cli("init").returncode == 0
    h.append(20)
    if db_url.startswith("sqlite"):
        db = Path(h.url.removeprefix("sqlite:///"))
        snapshot = tmp_path / "older.db"
        with sqlite3.connect(db) as src, sqlite3.connect(snapshot) as dst:
            src.backup(dst)
        h.append(15)
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.copy(snapshot, db)
    else:
        url = make_url(h.url)
        older = f"{url.database}_older"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{older}" TEMPLATE "{url.database}"'))
        h.append(15)
        h.env["CRMGUARD_DATABASE_URL"] = url.set(database=older).render_as_string(False)
    try:
        code, data = h.verify()
        assert (code, data["kind"], data["first_bad_seq"]) == (1, "rolled_back", 21), data
    finally:
        if not db_url.startswith("sqlite"):
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": older},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{older}"'))
            admin.dispose()


def test_the_auditor_needs_only_the_public_key_and_the_anchors(home: Home, tmp_path: Path) -> None:
    pub = tmp_path / "auditor" / "ledger.pub"
    pub.parent.mkdir()
    assert home.cli("audit", "pubkey", "--out", str(pub)).returncode == 0
    export = tmp_path / "auditor" / "ledger.jsonl"
    assert home.cli("audit", "export", "--out", str(export)).returncode == 0
    anchors = tmp_path / "auditor" / "anchors"
    shutil.copytree(home.path / "anchors", anchors)
    # The auditor's copy has no key files at all.
    assert not list((tmp_path / "auditor").rglob("*.key"))
    args = ("--pubkey", str(pub), "--anchors", str(anchors))
    code, data = home.verify(*args, "--file", str(export))
    assert code == 0 and data["anchored_seq"] == data["head_seq"], data
    code, data = home.verify(*args)  # the database itself, still without the MAC key
    assert code == 0, data
    lines = export.read_text().splitlines()
    export.write_text("\n".join(lines[:-4]) + "\n")  # the tail cut from the handed-over file
    code, data = home.verify(*args, "--file", str(export))
    assert (code, data["kind"]) == (1, "truncated")
    home.sql("UPDATE audit_ledger SET actor = 'x' WHERE seq = 3")
    code, data = home.verify(*args)
    assert (code, data["kind"], data["first_bad_seq"]) == (1, "altered", 3)


def test_bad_input_is_one_line_and_exit_2(home: Home, tmp_path: Path) -> None:
    pub = tmp_path / "ledger.pub"
    home.cli("audit", "pubkey", "--out", str(pub))
    anchors = home.settings().anchors.file

    def fails(*args: str, names: str) -> None:
        result = home.cli("audit", "verify", *args)
        assert result.returncode == 2, result.stdout + result.stderr
        assert names in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr

    other = tmp_path / "other.pub"
    other.write_text("11" * 32)
    fails("--pubkey", str(other), "--anchors", str(anchors), names=str(anchors))
    junk = tmp_path / "junk.pub"
    junk.write_text("not a key")
    fails("--pubkey", str(junk), "--anchors", str(anchors), names=str(junk))
    fails("--pubkey", str(tmp_path / "none.pub"), "--anchors", str(anchors), names="none.pub")
    missing = tmp_path / "missing.jsonl"
    fails(
        "--pubkey", str(pub), "--anchors", str(anchors), "--file", str(missing), names=str(missing)
    )
    with anchors.open("a") as fh:
        fh.write('{"seq": 1, "hash": "x", "ts": "nonsense", "signature": "00"}\n')
    fails(names=str(anchors))  # the home's own verify refuses a corrupt anchor file
    fails("--pubkey", str(pub), "--anchors", str(anchors), names=str(anchors))
    key = home.settings().mac_key_file
    key.write_bytes(bytes(32))  # someone swapped the MAC key file
    anchors.write_text(anchors.read_text().splitlines(keepends=True)[0])
    fails(names=str(key))
