"""Backup bench: crmguard vs restic on the same CRM-like SQLite database, same run.

Builds (or reuses, under bench/out/) a SQLite database of at least 500 MB with realistic
CRM text, then times restic backup/restore (local repository) and crmguard's backup run
and restore (local store), and prints the ratios the issue asks for:
backup throughput ours/restic, restore speed ours/restic, stored size ours/restic.

    python bench/bench_backup.py [--size-mb 520] [--level 2] [--threads 2] [--chunk-mib 4]
        [--rounds 3]

Each round runs restic then crmguard; the figures are medians over the rounds and the
per-round ratio range is shown, because these machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from sqlalchemy import create_engine  # noqa: E402

from backup import (  # noqa: E402
    DEFAULT_ZSTD_LEVEL,
    BackupOptions,
    FileKeyProvider,
    LocalStore,
    create_backup,
    init_key_file,
    restore_backup,
)
from crm_models import Base  # noqa: E402

OUT = ROOT / "out"
FIRST = [
    "Anna",
    "Boris",
    "Clara",
    "Dmitri",
    "Elena",
    "Fedor",
    "Galina",
    "Igor",
    "Julia",
    "Kirill",
    "Lena",
    "Maxim",
    "Nina",
    "Oleg",
    "Pavel",
    "Rita",
    "Sergei",
    "Tanya",
    "Ulyana",
    "Viktor",
    "Yana",
    "Zoya",
    "Marie",
    "Pierre",
    "Hans",
    "Greta",
    "Luca",
    "Sofia",
    "Jan",
    "Eva",
]
LAST = [
    "Ivanov",
    "Petrova",
    "Smirnov",
    "Kuznetsova",
    "Popov",
    "Sokolova",
    "Lebedev",
    "Novikova",
    "Morozov",
    "Volkova",
    "Meyer",
    "Dubois",
    "Rossi",
    "Novak",
    "Kowalski",
    "Schmidt",
    "Garcia",
    "Silva",
    "Jensen",
    "Berg",
    "Horvat",
    "Ionescu",
    "Nagy",
]
WORDS = [
    "call",
    "client",
    "about",
    "renewal",
    "contract",
    "discount",
    "delivery",
    "invoice",
    "payment",
    "overdue",
    "meeting",
    "next",
    "week",
    "proposal",
    "sent",
    "price",
    "list",
    "approved",
    "budget",
    "quarter",
    "manager",
    "decision",
    "warehouse",
    "order",
    "shipment",
    "delayed",
    "customs",
    "documents",
    "signed",
    "director",
    "agreed",
    "pilot",
    "project",
    "demo",
    "training",
    "support",
    "ticket",
    "integration",
    "website",
    "feedback",
    "positive",
    "negative",
    "competitor",
    "offer",
    "lower",
    "follow",
    "up",
    "reminder",
    "tender",
    "request",
    "specification",
    "volume",
    "annual",
    "plan",
    "regional",
    "office",
    "branch",
    "partner",
    "logistics",
    "samples",
    "quality",
    "complaint",
    "resolved",
]
CITIES = [
    "Moscow",
    "Kazan",
    "Berlin",
    "Paris",
    "Lyon",
    "Milan",
    "Prague",
    "Vienna",
    "Warsaw",
    "Riga",
    "Tallinn",
    "Minsk",
]


def sentence(rng: random.Random, lo: int, hi: int) -> str:
    n = rng.randint(lo, hi)
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def build(db: Path, size_mb: int) -> None:
    """A CRM-like database: companies, contacts with notes, deals, activities with text."""
    if db.exists() and db.stat().st_size >= size_mb * 1024 * 1024:
        return
    db.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    engine.dispose()
    rng = random.Random(7)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    now = datetime(2024, 1, 1, tzinfo=UTC)
    conn.executemany(
        "INSERT INTO users (id, username, display_name, email, active, roles, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 1, '[\"sales\"]', ?, ?)",
        [
            (
                i,
                f"user{i}",
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                f"user{i}@corp.example",
                now.isoformat(),
                now.isoformat(),
            )
            for i in range(1, 51)
        ],
    )
    conn.executemany(
        "INSERT INTO companies (id, name, industry, city, country, website, owner_id, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i,
                f"{rng.choice(LAST)} {rng.choice(['LLC', 'GmbH', 'SA', 'Ltd'])} {i}",
                rng.choice(["retail", "logistics", "it", "food"]),
                rng.choice(CITIES),
                "EU",
                f"https://c{i}.example",
                rng.randint(1, 50),
                now.isoformat(),
                now.isoformat(),
            )
            for i in range(1, 20001)
        ],
    )
    contact_id = activity_id = 0
    while db.stat().st_size < size_mb * 1024 * 1024:
        rows = []
        for _ in range(20000):
            contact_id += 1
            fn, ln = rng.choice(FIRST), rng.choice(LAST)
            t = (now + timedelta(minutes=contact_id)).isoformat()
            rows.append(
                (
                    contact_id,
                    fn,
                    ln,
                    f"{fn}.{ln}{contact_id}@mail.example".lower(),
                    f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)} "
                    f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                    rng.randint(1, 20000),
                    rng.choice(CITIES),
                    "EU",
                    rng.randint(1, 50),
                    " ".join(sentence(rng, 6, 20) for _ in range(rng.randint(1, 6))),
                    t,
                    t,
                )
            )
        conn.executemany(
            "INSERT INTO contacts (id, first_name, last_name, email, phone, company_id, city, "
            "country, owner_id, notes, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        acts = []
        for _ in range(40000):
            activity_id += 1
            t = (now + timedelta(minutes=activity_id)).isoformat()
            acts.append(
                (
                    activity_id,
                    rng.choice(["call", "meeting", "email", "note"]),
                    rng.randint(1, 50),
                    t,
                    rng.randint(1, contact_id),
                    sentence(rng, 5, 40),
                    t,
                    t,
                )
            )
        conn.executemany(
            "INSERT INTO activities (id, kind, owner_id, occurred_at, contact_id, summary, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            acts,
        )
        conn.commit()
    conn.close()


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed(fn: object) -> float:
    """Seconds ``fn`` takes, starting from a clean page cache state: ``sync`` first, so
    neither tool pays for the writeback of the other's files (restic does not fsync)."""
    os.sync()
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def run_restic(db: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """One restic backup into a fresh repository and one restore into a fresh folder."""
    repo = OUT / "restic-repo"
    shutil.rmtree(repo, ignore_errors=True)
    subprocess.run(
        ["restic", "init", "--repo", str(repo)], env=env, check=True, capture_output=True
    )
    backup = timed(
        lambda: subprocess.run(
            ["restic", "--repo", str(repo), "backup", "--quiet", str(db)], env=env, check=True
        )
    )
    target = OUT / "restic-restore"
    shutil.rmtree(target, ignore_errors=True)
    restore = timed(
        lambda: subprocess.run(
            [
                "restic",
                "--repo",
                str(repo),
                "restore",
                "latest",
                "--quiet",
                "--target",
                str(target),
            ],
            env=env,
            check=True,
        )
    )
    return backup, restore, du(repo)


def run_ours(db: Path, opts: BackupOptions) -> tuple[float, float, int]:
    """One crmguard backup into a fresh local store and one restore into a fresh file."""
    store_dir = OUT / "store"
    shutil.rmtree(store_dir, ignore_errors=True)
    keyfile = OUT / "bench.key"
    if not keyfile.exists():
        init_key_file(keyfile)
    key = FileKeyProvider(keyfile)
    store = LocalStore(store_dir)
    result = {}
    backup = timed(
        lambda: result.setdefault(
            "r", create_backup(f"sqlite:///{db}", store, key, store_dir / ".spool", options=opts)
        )
    )
    manifest = result["r"].manifest
    target = OUT / "ours-restore.db"
    target.unlink(missing_ok=True)  # like restic's target folder: restore into a fresh place
    restore = timed(
        lambda: restore_backup(store, key, manifest.backup_id, str(target), force=True, workdir=OUT)
    )
    return backup, restore, manifest.stored_bytes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=520)
    ap.add_argument("--level", type=int, default=DEFAULT_ZSTD_LEVEL)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunk-mib", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians reported")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    db = OUT / "crm.db"
    build(db, args.size_mb)
    size = db.stat().st_size
    db.read_bytes()  # warm the page cache for both tools alike
    env = dict(os.environ, RESTIC_PASSWORD="bench-password", RESTIC_CACHE_DIR=str(OUT / "rc"))
    opts = BackupOptions(args.chunk_mib * 1024 * 1024, args.level, args.threads)
    theirs, ours = [], []
    for _ in range(args.rounds):
        theirs.append(run_restic(db, env))
        ours.append(run_ours(db, opts))
    r_backup, r_restore = (statistics.median(t[i] for t in theirs) for i in (0, 1))
    o_backup, o_restore = (statistics.median(t[i] for t in ours) for i in (0, 1))
    r_stored, o_stored = theirs[-1][2], ours[-1][2]
    backup_ratios = sorted(t[0] / o[0] for t, o in zip(theirs, ours, strict=True))
    restore_ratios = sorted(t[1] / o[1] for t, o in zip(theirs, ours, strict=True))

    mb = size / 1e6
    print(f"database: {mb:.0f} MB ({db}); {args.rounds} alternating rounds, medians")
    restic_version = subprocess.run(["restic", "version"], capture_output=True, text=True)
    print(
        f"restic {restic_version.stdout.split()[1]}:"
        f" backup {r_backup:.2f}s ({mb / r_backup:.0f} MB/s), restore {r_restore:.2f}s "
        f"({mb / r_restore:.0f} MB/s), stored {r_stored / 1e6:.1f} MB"
    )
    print(
        f"crmguard (zstd {args.level}, {args.threads} threads, {args.chunk_mib} MiB chunks):"
        f" backup {o_backup:.2f}s ({mb / o_backup:.0f} MB/s), restore {o_restore:.2f}s "
        f"({mb / o_restore:.0f} MB/s), stored {o_stored / 1e6:.1f} MB"
    )
    span = "per round {:.2f}x-{:.2f}x"
    print(
        f"backup throughput ours/restic: {r_backup / o_backup:.2f}x (target >= 2; "
        + span.format(backup_ratios[0], backup_ratios[-1])
        + ")"
    )
    print(
        f"restore speed ours/restic:     {r_restore / o_restore:.2f}x (target >= 1.5; "
        + span.format(restore_ratios[0], restore_ratios[-1])
        + ")"
    )
    print(f"stored size ours/restic:       {o_stored / r_stored:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
