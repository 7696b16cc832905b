"""``python -m alerts.evaluation [--seed N ...] [--seeds 1-40] [--users N[,N...]] [--days N]``.

One seed prints its per-scenario report; a sweep (``--seeds``, or several seeds or
sizes) also prints a summary: per scenario kind how many companies detected it within
its window, and the worst and mean false-alert rates. Exit 1 when any company misses a
target, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from alerts.errors import RulesError
from alerts.evaluation.generator import generate
from alerts.evaluation.scorer import findings_of, report, score
from alerts.rules import Rules, load_rules

#: The false-alert target: at most this many per 100 active user-days after learning.
FP_TARGET = 0.5


@dataclass(frozen=True)
class _Run:
    """One company's outcome, small enough to cross a process boundary."""

    seed: int
    users: int
    text: str
    in_window: tuple[tuple[str, bool], ...]
    false_alerts: int
    user_days: int
    false_rules: tuple[str, ...]

    @property
    def rate(self) -> float:
        return 100.0 * self.false_alerts / self.user_days if self.user_days else 0.0

    @property
    def ok(self) -> bool:
        return all(hit for _, hit in self.in_window) and self.rate <= FP_TARGET


def _seeds(text: str) -> list[int]:
    """``"1-40"``, ``"3,5,9"`` or ``"1-4,9"`` as a list of seeds."""
    out: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a seed range: {part!r}") from None
        if b < a:
            raise argparse.ArgumentTypeError(f"empty seed range: {part!r}")
        out.extend(range(a, b + 1))
    return out


def _sizes(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of user counts: {text!r}") from None


def _one(job: tuple[int, int, int, Rules, bool, Path | None]) -> _Run:
    seed, users, days, rules, verbose, out = job
    company = generate(seed, users, days, rules.learning_days)
    if out is not None:
        with out.open("w", encoding="utf-8") as fh:
            for ev in company.events:
                fh.write(json.dumps(ev, separators=(",", ":")) + "\n")
    sc = score(company, findings_of(company, rules))
    text = f"seed {seed}: {len(company.users)} users, {days} days\n{report(sc, verbose)}"
    in_window = tuple(
        (r.scenario.name, r.delay is not None and r.delay <= r.scenario.window) for r in sc.results
    )
    return _Run(
        seed, len(company.users), text, in_window, len(sc.false_alerts), sc.user_days,
        tuple(f.rule for f in sc.false_alerts),
    )  # fmt: skip


def _summary(runs: list[_Run]) -> str:
    lines = ["", f"summary: {len(runs)} companies"]
    kinds: dict[str, list[bool]] = {}
    for run in runs:
        for name, hit in run.in_window:
            kinds.setdefault(name, []).append(hit)
    lines.append(f"  {'scenario':32} detected in window")
    for name, hits in kinds.items():
        missed = [
            f"{r.seed}/{r.users}" for r in runs for n, h in r.in_window if n == name and not h
        ]
        tail = f"  missed: seed/users {', '.join(missed)}" if missed else ""
        lines.append(f"  {name:32} {sum(hits)}/{len(hits)}{tail}")
    by_size: dict[int, list[_Run]] = {}
    for run in runs:
        by_size.setdefault(run.users, []).append(run)
    lines.append(f"  {'users':>6} {'companies':>9} {'mean FP':>8} {'worst FP':>9} {'> target':>8}")
    for users in sorted(by_size):
        group = by_size[users]
        worst = max(group, key=lambda r: r.rate)
        over = sum(r.rate > FP_TARGET for r in group)
        lines.append(
            f"  {users:>6} {len(group):>9} {sum(r.rate for r in group) / len(group):>8.2f} "
            f"{worst.rate:>9.2f} {over:>8}   (worst: seed {worst.seed})"
        )
    rates = [r.rate for r in runs]
    total_false = sum(r.false_alerts for r in runs)
    total_days = sum(r.user_days for r in runs)
    lines.append(
        f"  all: mean {sum(rates) / len(rates):.2f}, worst {max(rates):.2f}, pooled "
        f"{100.0 * total_false / max(total_days, 1):.2f} per 100 user-days "
        f"({total_false} false alerts in {total_days:,} user-days)"
    )
    rules: dict[str, int] = {}
    for run in runs:
        for rule in run.false_rules:
            rules[rule] = rules.get(rule, 0) + 1
    if rules:
        ranked = sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append("  false alerts by rule: " + ", ".join(f"{k} {v}" for k, v in ranked))
    return "\n".join(lines)


def _results(jobs: list[tuple[int, int, int, Rules, bool, Path | None]], n: int) -> Iterator[_Run]:
    if n <= 1 or len(jobs) == 1:
        yield from map(_one, jobs)
        return
    with ProcessPoolExecutor(max_workers=n) as pool:
        yield from pool.map(_one, jobs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m alerts.evaluation", description=__doc__)
    p.add_argument("--seed", type=int, action="append", help="seed (repeatable; default 1)")
    p.add_argument("--seeds", type=_seeds, default=None, help="a sweep: 1-40, or 1-4,9")
    p.add_argument("--users", type=_sizes, default=[60], help="company size(s): 60 or 20,60,150")
    p.add_argument("--days", type=int, default=42)
    p.add_argument("--rules", type=Path, default=None, help="alert rules (default: shipped)")
    p.add_argument("--out", type=Path, default=None, help="also write the events (JSON Lines)")
    p.add_argument("--verbose", action="store_true", help="list every false alert")
    p.add_argument("--quiet", action="store_true", help="a sweep: print the summary only")
    p.add_argument("--jobs", type=int, default=1, help="companies scored in parallel")
    args = p.parse_args(argv)
    try:
        rules = load_rules(args.rules)
    except RulesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seeds = list(args.seed or []) + list(args.seeds or [])
    seeds = seeds or [1]
    if args.days < rules.learning_days + 21 or min(args.users) < 10:
        print(
            f"error: need at least {rules.learning_days + 21} days and 10 users (a learning "
            "period, then room for every injected leak and its window)",
            file=sys.stderr,
        )
        return 2
    if args.out is not None and len(seeds) * len(args.users) > 1:
        print("error: --out writes one company: give one seed and one size", file=sys.stderr)
        return 2
    jobs = [(s, u, args.days, rules, args.verbose, args.out) for u in args.users for s in seeds]
    runs: list[_Run] = []
    for run in _results(jobs, args.jobs):
        runs.append(run)
        if not args.quiet:
            print(run.text, flush=True)
    if len(runs) > 1:
        print(_summary(runs))
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
