"""Consistent snapshots of a live database, as a stream of bytes.

SQLite: the online backup API copies the database into a temporary file in one step,
so the copy is a consistent state even while the CRM writes. PostgreSQL: a REPEATABLE
READ transaction exports its snapshot, row counts are taken inside it and ``pg_dump
--snapshot`` dumps exactly that state (custom format, uncompressed: we compress). Without
pg_dump the same transaction is exported table by table into a SQLite file.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from sqlalchemy import Connection, create_engine, func, inspect, select, table, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from backup.errors import SnapshotError
from backup.interface import LedgerHead, LedgerHeadFn
from backup.pg_schema import SCHEMA_TABLE, read_schema
from backup.portable import copy_database
from backup.scratch import scratch_dir

SQLITE_FILE = "sqlite-file"
PG_CUSTOM = "pg-custom"


@dataclass(frozen=True)
class SnapshotInfo:
    """What was captured: engine, payload kind, a credential-free source name, row counts."""

    engine: str
    payload: str
    source: str
    tables: dict[str, int] = field(default_factory=dict)
    ledger: LedgerHead | None = None


def describe_url(url: str) -> str:
    """The database named without credentials, for manifests and messages."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return f"sqlite:{Path(u.database or '').name}"
    return f"{u.get_backend_name()}:{u.host or 'local'}/{u.database}"


def sqlite_path(url: str) -> Path:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        raise SnapshotError(f"{describe_url(url)} is not a SQLite database file")
    return Path(u.database)


def count_rows(conn: Connection) -> dict[str, int]:
    """Rows per table, for every CRM table the inspector sees (not crmguard's own
    export bookkeeping)."""
    names = [n for n in inspect(conn).get_table_names() if n != SCHEMA_TABLE]
    return {
        n: int(conn.execute(select(func.count()).select_from(table(n))).scalar_one())
        for n in sorted(names)
    }


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (whatever the umask) before SQLite fills it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def sqlite_snapshot_file(src: Path, dest: Path) -> None:
    """Copy a live SQLite database with the online backup API (one consistent step)."""
    if not src.is_file():
        raise SnapshotError(f"SQLite database {src} does not exist")
    private_file(dest)
    try:
        with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as s, sqlite3.connect(dest) as d:
            s.backup(d)
        s.close()
        d.close()
    except sqlite3.Error as exc:
        raise SnapshotError(f"SQLite online backup of {src.name} failed: {exc}") from None


def _table_counts_sqlite(path: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return count_rows(conn)
    finally:
        engine.dispose()


def pg_env(u: URL) -> tuple[list[str], dict[str, str]]:
    """libpq arguments and environment for the pg_* tools (password via env, not argv)."""
    args = ["--dbname", str(u.database)]
    if u.host:
        args += ["--host", u.host]
    if u.port:
        args += ["--port", str(u.port)]
    if u.username:
        args += ["--username", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


@contextmanager
def open_snapshot(
    url: str, workdir: Path, ledger_head: LedgerHeadFn | None = None
) -> Iterator[tuple[SnapshotInfo, BinaryIO]]:
    """Yield the snapshot's facts and a stream of its bytes; temp files are removed after."""
    backend = make_url(url).get_backend_name()
    with scratch_dir(workdir, ".snap-") as tmp:
        if backend == "sqlite":
            path = sqlite_path(url)
            if _journal_mode(path) != "wal":
                yield from _locked_read(url, path, ledger_head)
                return
            snap = Path(tmp) / "snapshot.db"
            sqlite_snapshot_file(path, snap)
            yield from _yield_file(url, snap, ledger_head)
        elif backend == "postgresql":
            if shutil.which("pg_dump"):
                yield from _pg_dump(url, Path(tmp), ledger_head)
            else:
                snap = Path(tmp) / "export.db"
                private_file(snap)
                _pg_export(url, snap)
                yield from _yield_file(url, snap, ledger_head, engine="postgresql")
        else:
            raise SnapshotError(f"cannot back up a {backend} database (SQLite or PostgreSQL)")


def _journal_mode(path: Path) -> str:
    if not path.is_file():
        raise SnapshotError(f"SQLite database {path} does not exist")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        conn.close()
    except sqlite3.Error as exc:
        raise SnapshotError(f"cannot open SQLite database {path.name}: {exc}") from None
    return mode


def _locked_read(
    url: str, path: Path, ledger_head: LedgerHeadFn | None
) -> Iterator[tuple[SnapshotInfo, BinaryIO]]:
    """Rollback-journal databases: hold a SHARED lock and stream the file itself.

    While any SHARED lock is held no writer can reach the EXCLUSIVE lock it needs to
    change the file, so the bytes read are one committed state (a hot journal is rolled
    back when the lock is taken). Writers wait for the read, as they would for the backup
    API's copy, but no temporary copy is made: half the disk traffic.
    """
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN")
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' "
                "ESCAPE '!' ORDER BY name"
            )
        ]
        counts = {}
        for n in names:
            stmt = select(func.count()).select_from(table(n)).compile(dialect=sqlite_dialect())
            counts[n] = int(conn.execute(str(stmt)).fetchone()[0])
        head = ledger_head(url) if ledger_head else None
        info = SnapshotInfo("sqlite", SQLITE_FILE, describe_url(url), counts, head)
        with path.open("rb") as fh:
            yield info, fh
    except sqlite3.Error as exc:
        raise SnapshotError(f"cannot lock SQLite database {path.name} for reading: {exc}") from None
    finally:
        conn.close()


def _yield_file(
    url: str, snap: Path, ledger_head: LedgerHeadFn | None, engine: str = "sqlite"
) -> Iterator[tuple[SnapshotInfo, BinaryIO]]:
    head = ledger_head(f"sqlite:///{snap}") if ledger_head else None
    info = SnapshotInfo(engine, SQLITE_FILE, describe_url(url), _table_counts_sqlite(snap), head)
    with snap.open("rb") as fh:
        yield info, fh


def _pg_export(url: str, dest: Path) -> None:
    src = create_engine(url)
    dst = create_engine(f"sqlite:///{dest}")
    try:
        with src.connect() as conn, dst.begin() as out:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                # Times leave in UTC; the schema comes from the same snapshot as the rows.
                conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
                schema = read_schema(conn)
                copy_database(conn, out)
                out.execute(text(f"CREATE TABLE {SCHEMA_TABLE} (doc TEXT NOT NULL)"))
                out.execute(
                    text(f"INSERT INTO {SCHEMA_TABLE} (doc) VALUES (:d)"),  # noqa: S608 constant
                    {"d": schema.to_json()},
                )
    except SQLAlchemyError as exc:
        raise SnapshotError(
            f"export of {describe_url(url)} failed: {exc.__class__.__name__}"
        ) from None
    finally:
        src.dispose()
        dst.dispose()


def _pg_dump(
    url: str, tmp: Path, ledger_head: LedgerHeadFn | None
) -> Iterator[tuple[SnapshotInfo, BinaryIO]]:
    u = make_url(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                counts = count_rows(conn)
                head = ledger_head(url) if ledger_head else None
                args, env = pg_env(u)
                errlog = tmp / "pg_dump.err"
                with errlog.open("wb") as err:
                    proc = subprocess.Popen(
                        [
                            "pg_dump",
                            "--format=custom",
                            "--compress=0",
                            "--no-owner",
                            f"--snapshot={snapshot_id}",
                            *args,
                        ],
                        stdout=subprocess.PIPE,
                        stderr=err,
                        env=env,
                    )
                assert proc.stdout is not None
                info = SnapshotInfo("postgresql", PG_CUSTOM, describe_url(url), counts, head)
                try:
                    yield info, cast(BinaryIO, proc.stdout)
                except BaseException:
                    proc.kill()
                    proc.wait()
                    raise
                finally:
                    proc.stdout.close()
                code = proc.wait()
                if code != 0:
                    tail = errlog.read_text(errors="replace").strip().splitlines()[-1:]
                    raise SnapshotError(f"pg_dump failed ({code}): {' '.join(tail)}")
    except SQLAlchemyError as exc:
        raise SnapshotError(
            f"cannot snapshot {describe_url(url)}: {exc.__class__.__name__}"
        ) from None
    finally:
        engine.dispose()
