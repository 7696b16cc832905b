"""Seconds since the epoch of the times ``crmguard audit export`` writes, read digit by digit.

A replay needs each line's time as a number (the clock it runs on). Turning the text into
a ``datetime``, subtracting the epoch and reading the ``timedelta`` back was a tenth of
a replay's time. The export writes one shape of time only, UTC to the second or the
microsecond (``2026-11-14T02:47:00Z``, ``2026-11-14T02:47:00.852874Z``, or ``+00:00``
for ``Z``), and :class:`EpochClock` reads that shape from its digits, with the calendar
checked by :class:`datetime.date` once per date (lines in time order share their date).
Anything else (another offset, another precision, a date that does not exist) gets
``nan``, and the caller parses it with :meth:`datetime.fromisoformat` as before, which
says what is wrong with it. For the shape it reads, the number is the one
``alerts.replay._seconds(datetime.fromisoformat(text) - epoch)`` gives, to the bit: the
same whole days, seconds and microseconds go through the same floating-point steps.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Final

#: date(1970, 1, 1).toordinal()
_EPOCH_ORDINAL: Final = 719163
_ZERO: Final = 48  # ord("0")


class EpochClock:
    """One per replay: remembers the date, hour and minute it read last (lines in time
    order share them), so most lines cost a comparison and eight digits."""

    def __init__(self) -> None:
        #: ``YYYY-MM-DDTHH:MM:`` of the last time read, and its seconds since the epoch
        #: as the two terms the sum is made of: whole days (times 86400.0) and seconds
        self._prefix = "\x00"
        self._base = 0.0
        self._minutes = 0
        self._key = -1
        self._days = 0

    def seconds(self, text: str) -> float:
        """``text``'s seconds since the epoch, or ``nan`` when it is not the export's shape."""
        n = len(text)
        if n == 27 or n == 20:
            if ord(text[n - 1]) != 90:  # "Z"
                return math.nan
            fraction = n == 27
        elif n == 32 or n == 25:
            if not text.endswith("+00:00"):
                return math.nan
            fraction = n == 32
        else:
            return math.nan
        if not text.startswith(self._prefix) and not self._read_prefix(text):
            return math.nan
        # the seconds and their fraction, digit by digit here (no call: most lines
        # share everything before them with the line before)
        tens = ord(text[17]) - _ZERO
        ones = ord(text[18]) - _ZERO
        if tens < 0 or tens > 5 or ones < 0 or ones > 9:
            return math.nan
        second = tens * 10 + ones
        micro = 0
        if fraction:
            if ord(text[19]) != 46:  # "."
                return math.nan
            for i in range(20, 26):
                digit = ord(text[i]) - _ZERO
                if digit < 0 or digit > 9:
                    return math.nan
                micro = micro * 10 + digit
        # alerts.replay._seconds of the timedelta (days, seconds, microseconds)
        return ((self._base + (self._minutes + second)) * 1e6 + micro) / 1e6

    def _read_prefix(self, text: str) -> bool:
        """Read ``YYYY-MM-DDTHH:MM:`` (the calendar checked by :class:`datetime.date`);
        False when it is not one."""
        if (
            ord(text[4]) != 45 or ord(text[7]) != 45 or ord(text[10]) != 84
            or ord(text[13]) != 58 or ord(text[16]) != 58
        ):  # fmt: skip
            return False
        year = _number(text, 0, 4)
        month = _number(text, 5, 7)
        day = _number(text, 8, 10)
        hour = _number(text, 11, 13)
        minute = _number(text, 14, 16)
        if year < 0 or month < 0 or day < 0 or hour < 0 or minute < 0:
            return False  # not all digits
        if hour > 23 or minute > 59:
            return False
        key = (year * 100 + month) * 100 + day
        if key != self._key:
            try:
                days = date(year, month, day).toordinal() - _EPOCH_ORDINAL
            except ValueError:
                return False  # no such date: fromisoformat says so
            self._key, self._days = key, days
        self._prefix = text[:17]
        self._base = self._days * 86400.0
        self._minutes = hour * 3600 + minute * 60
        return True


def _number(text: str, start: int, stop: int) -> int:
    """The decimal number ``text[start:stop]`` when every character is an ASCII digit,
    else -1."""
    value = 0
    for i in range(start, stop):
        digit = ord(text[i]) - _ZERO
        if digit < 0 or digit > 9:
            return -1
        value = value * 10 + digit
    return value
