"""Where a restore writes: a SQLite file or a PostgreSQL database, always through a
temporary target that is checked before it replaces anything (as Litestream does)."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from backup.durable_file import DurableFile
from backup.errors import BackupCorrupt, SnapshotError
from backup.interface import KeyProvider, Progress, Store
from backup.manifest import Manifest
from backup.pg_schema import SCHEMA_TABLE, PgSchema, replay_schema
from backup.portable import copy_database
from backup.reader import read_backup
from backup.scratch import scratch_dir
from backup.snapshot import PG_CUSTOM, count_rows, pg_env


def check_sqlite(path: Path, manifest: Manifest, full: bool) -> dict[str, int]:
    """Check a restored SQLite file and return its table row counts.

    Restores (``full=False``) open the file and read its schema, and take the row counts
    from the manifest: :func:`read_backup` already proved the bytes are the snapshot's
    (SHA-256 and size), and the manifest's counts were taken on that very snapshot, so
    counting again would re-read the whole file to learn nothing. ``verify`` (the
    scheduled drill, ``full=True``) runs SQLite's integrity check and counts every table.
    """
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            if full:
                result = conn.execute("PRAGMA integrity_check").fetchall()
            else:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                result = [("ok",)]
        conn.close()
    except sqlite3.Error as exc:
        raise BackupCorrupt(
            f"backup {manifest.backup_id}: restored file is unusable: {exc}"
        ) from None
    if result != [("ok",)]:
        raise BackupCorrupt(
            f"backup {manifest.backup_id}: SQLite integrity_check failed: {result[0][0]}"
        )
    if not full:
        return dict(manifest.tables)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as c:
            counts = count_rows(c)
    finally:
        engine.dispose()
    return compare_counts(manifest, counts)


def compare_counts(manifest: Manifest, counts: dict[str, int]) -> dict[str, int]:
    for name, want in manifest.tables.items():
        if counts.get(name) != want:
            raise BackupCorrupt(
                f"backup {manifest.backup_id}: table {name} has {counts.get(name)} rows "
                f"after restore, the manifest says {want}"
            )
    return counts


def write_sqlite(
    store: Store, provider: KeyProvider, backup_id: str, dest: Path, progress: Progress
) -> Manifest:
    """Stream the backup's SQLite file into ``dest`` (on disk when this returns) and
    return its manifest."""
    with DurableFile(dest) as out:
        record = read_backup(store, provider, backup_id, out.write, progress)
    return record.manifest


def exported_schema(conn: Connection) -> PgSchema | None:
    """The PostgreSQL schema recorded in an export file, if it is one."""
    if SCHEMA_TABLE not in inspect(conn).get_table_names():
        return None
    raw = conn.execute(text(f"SELECT doc FROM {SCHEMA_TABLE}")).scalar_one()  # noqa: S608 constant
    return PgSchema.from_json(str(raw))


def sqlite_has_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            n = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
        conn.close()
    except sqlite3.Error:
        return True  # something that is not an empty database: never overwrite silently
    return bool(n and n[0])


def place_sqlite(tmp: Path, target: Path) -> None:
    """Move the checked file into place; stale WAL/SHM files would corrupt it, so they go."""
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)


class PgTarget:
    """A PostgreSQL database reached through the server's maintenance database."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        if not self.url.database:
            raise SnapshotError("the PostgreSQL URL names no database")
        self.admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def q(self, name: str) -> str:
        return self.admin.dialect.identifier_preparer.quote_identifier(name)

    def exists(self, name: str) -> bool:
        with self.admin.connect() as c:
            row = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            return row.first() is not None

    def url_of(self, name: str) -> URL:
        return self.url.set(database=name)

    def has_data(self) -> bool:
        if not self.exists(str(self.url.database)):
            return False
        engine = create_engine(self.url)
        try:
            with engine.connect() as c:
                return bool(inspect(c).get_table_names())
        finally:
            engine.dispose()

    def create_scratch(self, purpose: str) -> str:
        name = f"{self.url.database}_{purpose}_{secrets.token_hex(4)}"[-63:]
        with self.admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {self.q(name)}"))
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as c:
            c.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            c.execute(text(f"DROP DATABASE IF EXISTS {self.q(name)}"))

    def swap_in(self, scratch: str) -> None:
        target = str(self.url.database)
        self.drop(target)
        with self.admin.connect() as c:
            c.execute(text(f"ALTER DATABASE {self.q(scratch)} RENAME TO {self.q(target)}"))

    def dispose(self) -> None:
        self.admin.dispose()

    def fill(
        self,
        name: str,
        store: Store,
        provider: KeyProvider,
        backup_id: str,
        manifest: Manifest,
        workdir: Path,
        progress: Progress,
    ) -> dict[str, int]:
        """Restore the backup into database ``name`` and return its checked row counts."""
        url = self.url_of(name)
        if manifest.payload == PG_CUSTOM:
            self._pg_restore(url, store, provider, backup_id, workdir, progress)
        else:
            with scratch_dir(workdir, ".restore-") as tmp:
                file = Path(tmp) / "snapshot.db"
                write_sqlite(store, provider, backup_id, file, progress)
                check_sqlite(file, manifest, full=False)
                src = create_engine(f"sqlite:///{file}")
                dst = create_engine(url)
                try:
                    with src.connect() as s, dst.begin() as d:
                        schema = exported_schema(s)
                        if schema is not None:  # a PostgreSQL export: its own schema
                            replay_schema(s, d, schema)
                        else:  # a SQLite database migrating to PostgreSQL
                            copy_database(s, d)
                except SQLAlchemyError as exc:
                    raise SnapshotError(f"loading into PostgreSQL failed: {exc}") from None
                finally:
                    src.dispose()
                    dst.dispose()
        engine = create_engine(url)
        try:
            with engine.connect() as c:
                return compare_counts(manifest, count_rows(c))
        finally:
            engine.dispose()

    def _pg_restore(
        self,
        url: URL,
        store: Store,
        provider: KeyProvider,
        backup_id: str,
        workdir: Path,
        progress: Progress,
    ) -> None:
        args, env = pg_env(url)
        with tempfile.TemporaryFile(dir=workdir) as err:
            proc = subprocess.Popen(
                ["pg_restore", "--no-owner", "--exit-on-error", *args],
                stdin=subprocess.PIPE,
                stderr=err,
                env=env,
            )
            assert proc.stdin is not None
            try:
                read_backup(store, provider, backup_id, proc.stdin.write, progress)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # pg_restore stopped reading: its exit code and stderr say why
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            if proc.wait() != 0:
                err.seek(0)
                tail = err.read().decode(errors="replace").strip().splitlines()[-1:]
                raise SnapshotError(f"pg_restore failed: {' '.join(tail)}")
