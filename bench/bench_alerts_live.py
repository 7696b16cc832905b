"""Benchmark: live alert latency, from the commit of the event that crosses a threshold to
the alert's message in the outbox, against a bare ledger tail at the same poll interval.

The baseline is the least any tailing design can do at that interval: a thread that
only polls ``seq > cursor`` and notes when it saw the event. The live loop must, on top
of that, run detection, store the alert, write its ``alert.raise`` ledger event, queue
the outbox row and advance the cursor in one transaction. The ratio is live / baseline
(medians); the target is under 1 second absolute.

    python bench/bench_alerts_live.py                  # SQLite in a temporary directory
    python bench/bench_alerts_live.py --url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.live import LiveLoop
from alerts.model import Event, Finding
from alerts.schema import alert_outbox
from audit import AuditEvent, Ledger, audit_ledger
from crmguard import logs
from crmguard.db import make_engine
from crmguard.schema import upgrade
from crmguard.settings_alerts import AlertSettings

KEY = b"bench-key-bench-key-bench-key-32"
RNG = random.Random(5)


class Threshold:
    """More than 100 records exported by one user: one finding (the bench's detection)."""

    warmup = timedelta(hours=1)

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}

    def process(self, event: Event) -> list[Finding]:
        if event.action != "export":
            return []
        before = self.totals.get(event.actor, 0)
        total = self.totals[event.actor] = before + event.count
        if before <= 100 < total:
            return [
                Finding(
                    ts=event.ts, user=event.actor, rule="bench", severity="high",
                    score=float(total), summary=f"{event.actor} exported {total}",
                    evidence={"seq_range": [event.seq, event.seq]}, first_ts=event.ts,
                    last_ts=event.ts,
                )
            ]  # fmt: skip
        return []

    def close(self, user: str, rule: str) -> None:
        self.totals.pop(user, None)

    def false_positive(self, user: str, rule: str) -> None:
        self.close(user, rule)


def noise(ledger: Ledger, stop: threading.Event, rate: float) -> None:
    """Ordinary traffic while we measure: views by other users."""
    n = 0
    while not stop.is_set():
        n += 1
        ledger.append(AuditEvent(f"clerk{n % 20}", "view", "contact", (n,), 1, channel="web"))
        stop.wait(1 / rate)


def export(ledger: Ledger, user: str, count: int) -> int:
    ids = tuple(range(count))
    return ledger.append(AuditEvent(user, "export", "contact", ids, count, channel="api")).seq


def outbox_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(alert_outbox)).scalar_one())


def wait(predicate: object, timeout: float = 10.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():  # type: ignore[operator]
            return time.perf_counter()
        time.sleep(0.001)
    raise SystemExit("timed out waiting: the loop is not keeping up")


def measure_live(engine: Engine, ledger: Ledger, rounds: int, poll: float) -> list[float]:
    loop = LiveLoop(engine, ledger, Threshold, routes={"file": "low"}, poll_interval=poll)
    loop.start()
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    out = []
    try:
        # Catch up with what the baseline wrote (its users crossed too) before measuring.
        head = loop.lag()[1]
        wait(lambda: (loop.lag()[0] or 0) >= head, timeout=60)
        time.sleep(poll * 2)
        for i in range(rounds):
            before = outbox_rows(engine)
            export(ledger, f"live{i}", 60)  # below the threshold
            time.sleep(poll + RNG.uniform(0, poll))  # any point of the poll cycle
            export(ledger, f"live{i}", 60)  # crosses it
            committed = time.perf_counter()
            out.append(wait(lambda b=before: outbox_rows(engine) > b) - committed)
    finally:
        stop.set()
        thread.join()
    return out


def measure_bare(engine: Engine, ledger: Ledger, rounds: int, poll: float) -> list[float]:
    seen: dict[int, float] = {}
    stop = threading.Event()

    def tail() -> None:
        with engine.connect() as conn:
            cursor = int(conn.execute(select(func.max(audit_ledger.c.seq))).scalar() or 0)
        while not stop.is_set():
            with engine.connect() as conn:
                seqs = (
                    conn.execute(select(audit_ledger.c.seq).where(audit_ledger.c.seq > cursor))
                    .scalars()
                    .all()
                )
            now = time.perf_counter()
            for seq in seqs:
                seen[int(seq)] = now
                cursor = max(cursor, int(seq))
            stop.wait(poll)

    thread = threading.Thread(target=tail, daemon=True)
    thread.start()
    out = []
    try:
        for i in range(rounds):
            export(ledger, f"bare{i}", 60)
            time.sleep(poll + RNG.uniform(0, poll))
            seq = export(ledger, f"bare{i}", 60)
            committed = time.perf_counter()
            out.append(wait(lambda s=seq: s in seen) - committed)
    finally:
        stop.set()
        thread.join()
    return out


def summary(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(len(xs) * 0.95))]
    return (
        f"{name:<34} median {statistics.median(xs) * 1000:7.1f} ms  "
        f"p95 {p95 * 1000:7.1f} ms  max {xs[-1] * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary dir)")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--poll", type=float, default=AlertSettings().poll_interval)
    parser.add_argument("--noise", type=float, default=200.0, help="other events per second")
    args = parser.parse_args()
    logs.configure("warning")
    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    ledger = Ledger(engine, KEY)
    stop = threading.Event()
    background = threading.Thread(target=noise, args=(ledger, stop, args.noise), daemon=True)
    background.start()
    try:
        bare = measure_bare(engine, ledger, args.rounds, args.poll)
        live = measure_live(engine, ledger, args.rounds, args.poll)
    finally:
        stop.set()
        background.join()
        engine.dispose()
        tmp.cleanup()
    print(f"{engine.dialect.name}, poll interval {args.poll * 1000:.0f} ms, "
          f"{args.noise:.0f} other events/s, {args.rounds} crossings")  # fmt: skip
    print(summary("baseline: bare ledger tail", bare))
    print(summary("live: commit -> alert in outbox", live))
    ratio = statistics.median(live) / statistics.median(bare)
    verdict = "met" if max(live) < 1.0 else "NOT met"
    print(
        f"ratio live/baseline (medians): {ratio:.2f}x; target under 1 s: {verdict} "
        f"(max {max(live) * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
