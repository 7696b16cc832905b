"""The replay's clock reads the export's times to the same number fromisoformat gives.

A replay is only the same replay if every line gets the same time as before; a text the
digit reader does not take must go back to ``fromisoformat`` (``nan``), never get a
different number.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from alerts.replay import _EPOCH, _seconds
from alerts.timestamps import EpochClock


def reference(text: str) -> float:
    """What the replay computed before the digit reader (nan: fromisoformat refuses it
    or gives a time without a zone)."""
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return math.nan
    if ts.tzinfo is None:
        return math.nan
    return _seconds(ts - _EPOCH)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-14T02:47:00Z",
        "2026-11-14T02:47:00.852874Z",
        "2026-11-14T02:47:00+00:00",
        "2026-11-14T02:47:00.000001+00:00",
        "1969-12-31T23:59:59.999999Z",
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "2024-02-29T12:00:00Z",
    ],
)
def test_the_exports_shapes_read_to_the_same_number(text: str) -> None:
    got = EpochClock().seconds(text)
    assert not math.isnan(got)
    assert got == reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-14T02:47:00+01:00",  # another offset: fromisoformat's
        "2026-11-14T02:47:00.852Z",  # milliseconds
        "2026-11-14 02:47:00Z",  # a space for the T
        "2026-11-14T02:47:00",  # no zone
        "2026-02-29T02:47:00Z",  # no such day
        "2026-13-01T02:47:00Z",
        "2026-11-14T24:00:00Z",
        "2026-11-14T23:60:00Z",
        "2026-11-14T23:59:60Z",
        "0000-01-01T00:00:00Z",
        "2026-1a-14T02:47:00Z",
        "2026-11-14T02:47:00.85287aZ",
        "2026-11-14T02:47:00x852874Z",
        "2026-11-14T02:47:00.852874z",
        "2026-\u0661\u0661-14T02:47:00Z",  # digits, but not ASCII ones
        "",
        "Z" * 20,
    ],
)
def test_anything_else_goes_back_to_fromisoformat(text: str) -> None:
    assert math.isnan(EpochClock().seconds(text))


def test_random_times_and_their_neighbours_agree_with_fromisoformat() -> None:
    """Times across four centuries, in and out of order (the date cache is keyed by the
    whole date), and each with one character changed to something else."""
    rng = random.Random(20261202)
    clock = EpochClock()
    start = datetime(1900, 1, 1, tzinfo=UTC)
    alphabet = "0123456789-:TZ.+ x"
    for _ in range(20_000):
        ts = start + timedelta(
            days=rng.randrange(0, 400 * 365), seconds=rng.randrange(86400),
            microseconds=rng.choice([0, rng.randrange(1_000_000)]),
        )  # fmt: skip
        text = ts.isoformat()
        if rng.random() < 0.5:
            text = text.replace("+00:00", "Z")
        assert clock.seconds(text) == reference(text), text
        i = rng.randrange(len(text))
        bent = text[:i] + rng.choice(alphabet) + text[i + 1 :]
        got = clock.seconds(bent)
        assert math.isnan(got) or got == reference(bent), bent  # nan: fromisoformat's
