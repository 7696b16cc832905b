"""Ledger timestamps: the stored text and the datetime a reader gets back agree exactly,
and text of any other shape is refused rather than read as some other time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from audit import format_ts, parse_ts


@pytest.mark.parametrize(
    "ts",
    [
        datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 6, 1, 12, 0, 0, 7, tzinfo=timezone(timedelta(hours=3))),
    ],
)
def test_a_stored_time_reads_back_as_the_same_instant_in_utc(ts: datetime) -> None:
    back = parse_ts(format_ts(ts))
    assert back == ts
    assert back.tzinfo is UTC
    assert format_ts(back) == format_ts(ts)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T10:00:00,123456Z",  # a comma: ISO 8601 allows it, the ledger never writes it
        "2026-11-22 10:00:00.123456Z",
        "2026-11-22T10:00:00.123+00:00",
        "20261122T100000.123456Z",
        "2026-11-22T24:00:00.000000Z",
        "2026-11-22T10:00:00.12345aZ",
        "2026-11-22T10:00:00.123456",
        "2026-11-22T10:00:00.\uff1123456Z",  # a digit, but not an ASCII one
        "",
    ],
)
def test_text_of_any_other_shape_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ts(text)
