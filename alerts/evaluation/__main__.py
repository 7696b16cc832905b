"""``python -m alerts.evaluation [--seed N] [--users N] [--days N] [--out FILE]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from alerts.evaluation.generator import generate
from alerts.evaluation.scorer import findings_of, report, score
from alerts.rules import load_rules


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m alerts.evaluation", description=__doc__)
    p.add_argument("--seed", type=int, action="append", help="seed (repeatable; default 1)")
    p.add_argument("--users", type=int, default=60)
    p.add_argument("--days", type=int, default=42)
    p.add_argument("--rules", type=Path, default=None, help="alert rules (default: shipped)")
    p.add_argument("--out", type=Path, default=None, help="also write the events (JSON Lines)")
    p.add_argument("--verbose", action="store_true", help="list every false alert")
    args = p.parse_args(argv)
    rules = load_rules(args.rules)
    failed = False
    for seed in args.seed or [1]:
        try:
            company = generate(seed, args.users, args.days, rules.learning_days)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.out is not None:
            with args.out.open("w", encoding="utf-8") as fh:
                for ev in company.events:
                    fh.write(json.dumps(ev, separators=(",", ":")) + "\n")
        sc = score(company, findings_of(company, rules))
        print(f"seed {seed}: {len(company.users)} users, {args.days} days")
        print(report(sc, args.verbose))
        ok = sc.all_detected and all(
            r.delay is not None and r.delay <= r.scenario.window for r in sc.results
        )
        failed |= not ok or sc.false_per_100 > 0.5
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
