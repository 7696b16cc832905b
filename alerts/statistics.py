"""Robust statistics on log volumes: medians, quantiles, the MAD and its small-sample
correction. Pure functions, no state; the baselines are built from them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

_MAD_TO_SIGMA: Final = 1.4826


def median(values: Sequence[float]) -> float:
    return _median_sorted(sorted(values))


def _median_sorted(s: list[float]) -> float:
    n = len(s)
    if n == 0:
        return 0.0
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2.0


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (the same as numpy's default)."""
    return _quantile_sorted(sorted(values), q)


def _quantile_sorted(s: list[float], q: float) -> float:
    if not s:
        return 0.0
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def robust_threshold(
    values: Sequence[float], k: float, min_spread: float, q: float = 0.0, margin: float = 0.0
) -> float:
    """``max(median * e^(k * spread), quantile * margin)`` on log1p volumes (0 when empty).

    ``spread`` is 1.4826 x the MAD (a standard deviation for normal data, but blind to a
    minority of outliers), never below ``min_spread`` so a user whose days are all alike
    is not paged for a day only slightly busier.
    """
    if not values:
        return 0.0
    logs = [math.log1p(max(v, 0.0)) for v in values]
    center = median(logs)
    spread = max(_MAD_TO_SIGMA * median([abs(x - center) for x in logs]), min_spread)
    level = math.expm1(center + k * spread)
    if margin > 0:
        level = max(level, math.expm1(quantile(logs, q)) * margin)
    return level


class Stats:
    """Log-volume statistics: median, robust spread, ``quantile``; n = own days used.

    A value (``Final`` fields, no setter in the compiled build), made tens of thousands
    of times a day (one per user, metric and day): a compiled class, as neither a
    dataclass nor a named tuple is made by compiled code (their ``__init__`` and
    ``__new__`` are generated Python, which the interpreter runs)."""

    __slots__ = ("between", "center", "dof", "high", "level", "n", "spread")

    def __init__(
        self,
        center: float,
        spread: float,
        high: float,
        n: int,
        between: float = 0.0,
        level: float = -1.0,
        dof: int = 0,
    ) -> None:
        self.center: Final = center
        self.spread: Final = spread
        self.high: Final = high
        self.n: Final = n
        #: peers only: how much members' centers differ
        self.between: Final = between
        #: peers only: the median member's alert level (log)
        self.level: Final = level
        #: the spread's degrees of freedom when estimated from few values (0: many)
        self.dof: Final = dof

    def _fields(self) -> tuple[float, float, float, int, float, float, int]:
        return (self.center, self.spread, self.high, self.n, self.between, self.level, self.dof)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stats):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        center, spread, high, n, between, level, dof = self._fields()
        return (
            f"Stats(center={center!r}, spread={spread!r}, high={high!r}, n={n!r}, "
            f"between={between!r}, level={level!r}, dof={dof!r})"
        )


class _ZTable(dict[float, float]):
    """Standard normal quantiles, computed on first use."""

    def __missing__(self, q: float) -> float:
        from statistics import NormalDist

        z = self[q] = NormalDist().inv_cdf(q)
        return z


_Z = _ZTable()


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for num in (
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def _t_upper(t: float, dof: float) -> float:
    """P(T > t) for Student's t with ``dof`` degrees of freedom, t >= 0."""
    x = dof / (dof + t * t)
    a, b = dof / 2.0, 0.5
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return 0.5 * front * _betacf(a, b, x) / a
    return 0.5 * (1.0 - front * _betacf(b, a, 1.0 - x) / b)


class _TTable(dict[tuple[float, int], float]):
    """Student's t quantiles at a normal ``z``'s probability, keyed ``(z, dof)``, computed
    on first use (bisection on the exact tail; the baselines ask for a handful of pairs)."""

    def __missing__(self, key: tuple[float, int]) -> float:
        z, dof = key
        from statistics import NormalDist

        tail = NormalDist().cdf(-z)
        lo = hi = z
        while _t_upper(hi, dof) > tail:
            hi *= 2.0
        for _ in range(100):
            mid = (lo + hi) / 2.0
            # once the halving no longer moves an end, no later step would: stop there
            if _t_upper(mid, dof) > tail:
                if mid == lo:
                    break
                lo = mid
            else:
                if mid == hi:
                    break
                hi = mid
        got = self[key] = (lo + hi) / 2.0
        return got


_T = _TTable()


def t_equivalent(z: float, dof: int) -> float:
    """The Student-t quantile with ``dof`` degrees of freedom at the normal ``z``'s
    probability: how far out the same tail lies when the spread itself is estimated
    from few values (the predictive distribution of the next value is t, not normal).
    ``z`` itself when ``dof`` is above 1000 or ``z`` is not above 0."""
    if z <= 0 or dof > 1000:
        return z
    return _T[(z, max(dof, 1))]


#: Small-sample consistency factors of the MAD (Croux and Rousseeuw 1992): with a handful
#: of days the plain MAD underestimates the spread, which would make alerts too eager.
_MAD_SMALL = {2: 1.196, 3: 1.495, 4: 1.363, 5: 1.206, 6: 1.200, 7: 1.140, 8: 1.129, 9: 1.107}


def mad_sigma(logs: list[float], center: float) -> float:
    """A robust standard deviation: 1.4826 x MAD, corrected for small samples. (Lists,
    here and below, not Sequences: the compiled build indexes a list with C calls.)"""
    n = len(logs)
    if n < 2:
        return 0.0
    c = _MAD_SMALL.get(n, n / (n - 0.8))
    return c * _MAD_TO_SIGMA * median([abs(x - center) for x in logs])


def log_stats(values: Sequence[float], q: float) -> Stats:
    """Median, robust spread and ``q`` quantile of log1p(values)."""
    return stats_of_logs([math.log1p(v) for v in values], q)


def stats_of_logs(logs: list[float], q: float) -> Stats:
    """:func:`log_stats` of values already taken as log1p (sorted once for both the
    median and the quantile: the baselines compute thousands of these a day)."""
    s = sorted(logs)
    center = _median_sorted(s)
    return Stats(center, mad_sigma(s, center), _quantile_sorted(s, q), len(s))


def count_tail(k: int, events: float, exposure: float, ahead: float, prior: float = 0.5) -> float:
    """P(at least ``k`` events in ``ahead`` units of exposure) for someone who had
    ``events`` in ``exposure`` (days, or requests of any kind: the rate is per unit).

    The rate is not known, only estimated: with a Gamma(``prior``, 0) prior on it (Jeffreys'
    for a Poisson rate at the default 0.5), the count in the next ``ahead`` units is
    negative binomial with r = prior + events and p = exposure / (exposure + ahead). That
    tail is wider than a Poisson one with the rate plugged in, so a user with little
    history is not judged as if their rate were certain.
    """
    if k <= 0 or exposure <= 0:
        return 1.0
    if ahead <= 0:
        return 0.0
    r = prior + events
    p = exposure / (exposure + ahead)
    log_p, log_q = math.log(p), math.log1p(-p)
    below = 0.0
    base = -math.lgamma(r)
    for j in range(k):
        below += math.exp(math.lgamma(j + r) + base - math.lgamma(j + 1) + r * log_p + j * log_q)
    return max(1.0 - below, 0.0)


def least_unusual_count(
    events: float, exposure: float, ahead: float, alpha: float, prior: float = 0.5
) -> int:
    """The smallest count in ``ahead`` units whose :func:`count_tail` is below ``alpha``
    (a billion when nothing is known: no count is unusual then). One pass over the
    negative binomial's terms."""
    if exposure <= 0:
        return 10**9
    if ahead <= 0:
        return 1
    r = prior + events
    p = exposure / (exposure + ahead)
    log_p, log_q = math.log(p), math.log1p(-p)
    base = -math.lgamma(r)
    below = 0.0
    for k in range(1, 100001):
        j = k - 1
        below += math.exp(math.lgamma(j + r) + base - math.lgamma(j + 1) + r * log_p + j * log_q)
        if 1.0 - below < alpha:
            return k
    return 100001
