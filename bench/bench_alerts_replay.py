"""Benchmark: `crmguard alerts replay` throughput, against just parsing the same lines.

Generates a company's activity with the evaluation generator (every detector has work:
bursts, scraping, drips, departures), writes it as `crmguard audit export` JSON Lines,
then times, in the same process and alternating rounds:

* baseline: read the file and parse every line with the same JSON parser (nothing else);
* replay: :func:`alerts.replay.replay` with the shipped rules (parse, validate, sort,
  every detector, contract lines written to /dev/null).

    python bench/bench_alerts_replay.py                  # --users 120 --days 42 --rounds 3
    python bench/bench_alerts_replay.py --clock process  # CPU time: steadier on a busy machine

On a machine too busy for timings, count instructions instead (valgrind, once each):
``--write FILE`` keeps the generated file, ``--only parse|replay|none FILE`` runs one pass
over it (``none``: imports and rules only, to subtract)::

    python bench/bench_alerts_replay.py --write /tmp/events.jsonl
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        python bench/bench_alerts_replay.py --only replay /tmp/events.jsonl
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.evaluation.generator import generate
from alerts.replay import _dumps, _loads, replay
from alerts.rules import load_rules


def parse_only(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                _loads(raw)
                n += 1
    return n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=120)
    p.add_argument("--days", type=int, default=42)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--clock", choices=("wall", "process"), default="wall")
    p.add_argument("--write", type=Path, help="write the generated events there and stop")
    p.add_argument("--only", nargs=2, metavar=("PASS", "FILE"), help="parse|replay|none FILE")
    args = p.parse_args()
    rules = load_rules(None)
    if args.only:
        kind, file = args.only[0], Path(args.only[1])
        if kind not in ("parse", "replay", "none"):
            p.error(f"--only: parse, replay or none, not {kind!r}")
        if kind == "parse":
            parse_only(file)
        elif kind == "replay":
            with open(os.devnull, "w", encoding="utf-8") as sink:
                replay(file, rules, sink)
        return
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    company = generate(args.seed, args.users, args.days)
    if args.write:
        with open(args.write, "w", encoding="utf-8") as fh:
            for event in company.events:
                fh.write(_dumps(event) + "\n")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for event in company.events:
                fh.write(_dumps(event) + "\n")
        size = path.stat().st_size
        n = len(company.events)
        del company
        parse_times, replay_times = [], []
        findings = 0
        with open(os.devnull, "w", encoding="utf-8") as sink:
            for _ in range(args.rounds):
                start = clock()
                assert parse_only(path) == n
                parse_times.append(clock() - start)
                start = clock()
                result = replay(path, rules, sink)
                replay_times.append(clock() - start)
                findings = result.findings
    parse_s, replay_s = min(parse_times), min(replay_times)
    # each round's ratio compares two runs made one after the other: on a shared machine
    # the median of those is steadier than either best time
    ratios = sorted(r / p for p, r in zip(parse_times, replay_times, strict=True))
    print(f"events: {n:,} ({size / 1e6:.1f} MB, {args.users} users, {args.days} days), "
          f"{findings} alerts raised or escalated")  # fmt: skip
    print(f"clock      : {args.clock}")
    print(f"parse only : {parse_s:7.3f} s  {n / parse_s:12,.0f} events/s  (best of {args.rounds})")
    print(f"replay     : {replay_s:7.3f} s  {n / replay_s:12,.0f} events/s  (target >= 200,000)")
    print(f"ratio replay / parse: {replay_s / parse_s:.2f} (best times), "
          f"{ratios[len(ratios) // 2]:.2f} (median of the rounds' ratios)")  # fmt: skip


if __name__ == "__main__":
    main()
