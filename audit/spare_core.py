"""Whether this machine has a core to spare for a second process, right now.

Used by verify to decide on its helper process (see :func:`spare_core`).
"""

from __future__ import annotations

import os

_PSI = "/proc/pressure/cpu"
_PSI_BUSY = 25.0
"""Percent of the last 10 s in which some runnable task waited for a CPU, from which on
a second process would mostly wait too."""


def _cpu_waiting() -> float | None:
    """Linux's CPU pressure (``some avg10``), or None where the kernel does not report it."""
    try:
        with open(_PSI, encoding="ascii") as fh:
            first = fh.readline().split()
    except OSError:
        return None
    for field in first[1:]:
        name, _, value = field.partition("=")
        if name == "avg10":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def spare_core() -> bool:
    """Whether a second process would find a core of its own.

    On a busy machine a helper only takes CPU time from the walk (both share the
    session's scheduling group) and adds its start-up, so the walk goes alone. Busy is
    judged by CPU pressure where Linux reports it: tasks that waited for a CPU recently.
    The load average, the fallback, lags by a minute and counts this very walk (and a
    previous verify's helper), so right after one large verify it would refuse the
    next one its helper on an otherwise idle machine.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return False
    if cores < 2:
        return False
    waiting = _cpu_waiting()
    if waiting is not None:
        return waiting < _PSI_BUSY
    try:
        load = os.getloadavg()[0]
    except OSError:
        return False
    return load < cores - 0.5
