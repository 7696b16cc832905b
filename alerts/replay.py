"""The offline contract: run detection over a ``crmguard audit export`` file.

Reads JSON Lines (at least ``ts, actor, action, resource, outcome``; ``count``,
``record_ids, ip, channel, details, seq`` when present), sorts them by event time (a
stable sort: ties keep file order), runs one :class:`~alerts.engine.DetectionEngine`
over them, and writes one JSON line per finding (raised or escalated) in the order they
happen. Event time is the only clock and nothing else is read, so the same input and rules
give the same output, byte for byte. A malformed line is named by its number and skipped
(counted), or, with ``strict``, stops the replay.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final

import orjson

from alerts import native
from alerts.engine import DetectionEngine
from alerts.errors import ReplayError
from alerts.export_line import REFUSED as LINE_REFUSED
from alerts.export_line import ExportLine, fields_of
from alerts.export_line import decode as decode_line
from alerts.model import EVENT_FIELD_NAMES, Event, Finding
from alerts.rules import Rules
from alerts.timestamps import EpochClock

#: orjson parses export lines several times faster than json (a declared dependency)
_loads: Callable[[bytes], Any] = orjson.loads


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


_REQUIRED = ("ts", "actor", "action", "resource", "outcome")
#: What the parsers raise for text that is not JSON (orjson's error is a subclass).
_DECODE_ERRORS = json.JSONDecodeError
#: the fields of an Event, every one of them a key of a ``crmguard audit export`` line
_N_FIELDS: Final = len(EVENT_FIELD_NAMES)
#: and the keys of a line of ``crmguard audit export``: those and the ledger's own
_N_LEDGER: Final = _N_FIELDS + 3
_parse_ts = datetime.fromisoformat
#: read the export's times digit by digit (alerts.timestamps) where this runs compiled:
#: there that costs less than fromisoformat and the datetime arithmetic, interpreted more
_DIGITS: Final = native.status().compiled


def _plain_ids(ids: list[Any] | tuple[Any, ...]) -> bool:
    """Is every item a record id (an int or a str; a bool is not an int here)? The
    compiled build runs this as a C loop, a few nanoseconds an id (an export's list
    holds thousands)."""
    return all(type(rid) is int or type(rid) is str for rid in ids)


#: what an aware datetime's timestamp() counts from, as it does (the same float)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


#: an ExportLine's fields, in order (``fields_of``): ts, actor, action, resource,
#: record_ids, count, outcome, channel, ip, details, seq
_Row = tuple[
    str, str, str, str, list[int | str], int, str, str | None, str | None, dict[str, Any], Any
]


def _seconds(d: timedelta) -> float:
    """``d.total_seconds()``, the same float, without its method call and the integers
    it builds: the microseconds are a whole number under 2**53 (about 285 years), so
    every step is exact in floating point and the one division rounds as its does."""
    return ((d.days * 86400.0 + d.seconds) * 1e6 + d.microseconds) / 1e6


@dataclass(frozen=True)
class ReplayResult:
    """What a replay did: events processed, findings written, malformed lines skipped."""

    events: int
    findings: int
    skipped: int


def parse_ts(text: str) -> datetime:
    """An RFC 3339 time (``Z`` or an offset); a time without a zone is taken as UTC."""
    ts = datetime.fromisoformat(text)
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def event_from_json(obj: Any) -> Event:
    """One export line's object as an Event; ValueError says what is wrong with it.

    The common line (exactly the export's keys, each of the expected type; the ledger's
    ``request_id``, ``prev_hash`` and ``hash`` are dropped) is checked in one test and
    read by subscripts; any other line takes the checked path (:func:`_checked_event`),
    which says what is wrong with it."""
    if type(obj) is dict and len(obj) == _N_LEDGER:  # what the ledger adds, unread here
        pop = obj.pop
        pop("request_id", None), pop("prev_hash", None), pop("hash", None)
    if type(obj) is dict and len(obj) == _N_FIELDS:
        try:
            text, actor, action, resource, outcome, ids, count, details, seq = (
                obj["ts"], obj["actor"], obj["action"], obj["resource"], obj["outcome"],
                obj["record_ids"], obj["count"], obj["details"], obj["seq"],
            )  # fmt: skip
            ip, channel = obj["ip"], obj["channel"]  # with the count, no key is extra
        except KeyError:
            return _checked_event(obj)
        if (
            type(text) is str and type(actor) is str and type(action) is str
            and type(resource) is str and type(outcome) is str and type(ids) is list
            and type(count) is int and count >= 0 and type(details) is dict
            and (ip is None or type(ip) is str) and (channel is None or type(channel) is str)
            and _plain_ids(ids)
        ):  # fmt: skip
            try:
                ts = _parse_ts(text)
            except ValueError:
                return _checked_event(obj)
            event = Event(
                ts=ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC),
                actor=actor,
                action=action,
                resource=resource,
                count=count,
                outcome=outcome,
                record_ids=tuple(ids),
                ip=ip,
                channel=channel,
                details=details,
                seq=seq if type(seq) is int else None,
            )
            return event
    return _checked_event(obj)


def _checked_event(obj: Any) -> Event:
    """:func:`event_from_json` field by field: defaults for what is missing, a
    ValueError naming what is wrong."""
    if type(obj) is not dict:
        raise ValueError("not a JSON object")
    get = obj.get
    text, actor, action, resource, outcome = (
        get("ts"), get("actor"), get("action"), get("resource"), get("outcome")
    )  # fmt: skip
    if not (
        type(text) is str and type(actor) is str and type(action) is str
        and type(resource) is str and type(outcome) is str
    ):  # fmt: skip
        missing = next(k for k in _REQUIRED if not isinstance(get(k), str))
        raise ValueError(f"{missing!r} missing or not a string")
    ids = get("record_ids") or ()
    if type(ids) is not list and not isinstance(ids, list | tuple):
        raise ValueError("'record_ids' is not a list")
    if not _plain_ids(ids):
        raise ValueError("'record_ids' holds a value that is not a record id (integer or string)")
    for key in ("ip", "channel"):
        if not isinstance(get(key), str | None):
            raise ValueError(f"{key!r} is not a string")
    count = get("count")
    if count is None:
        count = len(ids)
    elif type(count) is not int or count < 0:
        raise ValueError("'count' is not a whole number >= 0")
    details = get("details")
    if type(details) is not dict:  # (an empty object is kept as parsed: no new dict)
        details = details or {}
        if type(details) is not dict:
            raise ValueError("'details' is not an object")
    seq = get("seq")
    try:
        ts = _parse_ts(text)
    except ValueError:
        raise ValueError(f"'ts' is not an RFC 3339 time: {text[:40]!r}") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    event = Event(
        ts=ts,
        actor=actor,
        action=action,
        resource=resource,
        count=count,
        outcome=outcome,
        record_ids=tuple(ids),
        ip=get("ip"),
        channel=get("channel"),
        details=details,
        seq=seq if type(seq) is int else None,
    )
    return event


class _Lines:
    """Export lines parsed into events: bad lines reported (fatal when strict) and counted.

    The one parser both replay paths (streaming and sorting) read through."""

    def __init__(
        self, strict: bool, on_bad: Callable[[int, str], None] | None, source: str
    ) -> None:
        self.strict = strict
        self.on_bad = on_bad
        self.source = source
        self.skipped = 0

    def events(self, lines: Iterable[bytes]) -> Iterator[tuple[int, Event]]:
        """(line number, event) for every good line, in file order."""
        for number, raw in enumerate(lines, start=1):
            try:
                event = event_from_json(_loads(raw))
            except ValueError as exc:
                self.bad(raw, exc, number)
                continue
            yield number, event

    def bad(self, raw: bytes, exc: ValueError, number: int) -> None:
        """Line ``number`` was refused: report and count it (a blank line is neither);
        ReplayError when strict."""
        reason = _malformed(raw, exc, number, self.strict, self.source)
        if reason:
            self.skipped += 1
            if self.on_bad is not None:
                self.on_bad(number, reason)


def read_events(
    lines: Iterable[bytes],
    *,
    strict: bool = False,
    on_bad: Callable[[int, str], None] | None = None,
    source: str = "input",
) -> tuple[list[Event], int]:
    """Parse every line; returns the events in time order and the number skipped."""
    parsed = _Lines(strict, on_bad, source)
    events = [event for _, event in parsed.events(lines)]
    events.sort(key=lambda e: e.ts)  # stable; linear on a file already in order
    return events, parsed.skipped


def _malformed(raw: bytes, exc: ValueError, number: int, strict: bool, source: str) -> str:
    """Why line ``number`` was refused ("" for a blank line); ReplayError when strict."""
    if not raw.strip():
        return ""
    # orjson's and json's decode errors are ValueErrors, as are event_from_json's
    reason = "not valid JSON" if isinstance(exc, _DECODE_ERRORS) else str(exc)
    if strict:
        raise ReplayError(f"{source} line {number}: {reason}")
    return reason


def run(events: Iterable[Event], rules: Rules, emit: Callable[[Finding], None]) -> tuple[int, int]:
    """Feed ``events`` to a fresh engine; ``emit`` each finding. Returns (events, findings)."""
    engine = DetectionEngine(rules)
    n = found = 0
    process = engine.process
    for event in events:
        n += 1
        for finding in process(event):
            found += 1
            emit(finding)
    return n, found


def replay(
    path: Path,
    rules: Rules,
    out: IO[str],
    *,
    strict: bool = False,
    on_bad: Callable[[int, str], None] | None = None,
) -> ReplayResult:
    """The contract: ``path`` in, contract lines on ``out``; ReplayError when it cannot run.

    The cyclic garbage collector is paused for the run: a replay allocates millions of
    objects and no cycles, and the collector would rescan the long-lived ones again and
    again.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _replay(path, rules, out, strict=strict, on_bad=on_bad)
    finally:
        if paused:
            gc.enable()


def _replay(
    path: Path,
    rules: Rules,
    out: IO[str],
    *,
    strict: bool,
    on_bad: Callable[[int, str], None] | None,
) -> ReplayResult:
    """Exports are in time order (or nearly: a few entries may commit out of order), so
    events are detected as they are read, one at a time; the first event earlier than
    its predecessor sends the whole file to the sorting path (read all, sort, detect)."""
    try:
        with open(path, "rb") as fh:
            streamed = _stream(fh, rules, strict, on_bad, str(path))
            if isinstance(streamed, int):  # out of order at that line: sort, start again
                fh.seek(0)
                seen = streamed

                def on_bad_after(number: int, reason: str) -> None:
                    if number > seen and on_bad is not None:
                        on_bad(number, reason)  # the lines before were reported already

                events, skipped = read_events(
                    fh, strict=strict, on_bad=on_bad_after, source=str(path)
                )
    except FileNotFoundError:
        raise ReplayError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ReplayError(f"{path}: is a directory, not an events file") from None
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not isinstance(streamed, int):
        lines, n, skipped = streamed
        out.write("".join(lines))
        out.flush()
        return ReplayResult(n, len(lines), skipped)

    def emit(finding: Finding) -> None:
        out.write(_dumps(finding.to_contract()) + "\n")

    n, found = run(events, rules, emit)
    out.flush()
    return ReplayResult(n, found, skipped)


def _stream(
    fh: IO[bytes],
    rules: Rules,
    strict: bool,
    on_bad: Callable[[int, str], None] | None,
    source: str,
) -> tuple[list[str], int, int] | int:
    """Detect over ``fh`` as read: the contract lines, events and lines skipped; or the
    number of the first line earlier than its predecessor (nothing is written).

    The common line (the export's fields, each of the expected type, decoded and checked
    in one pass as an :class:`~alerts.export_line.ExportLine`, its time with a zone) is
    handed to the engine as fields (``observe_fields``) with no Event built: most reads
    pass no detector's bar, and the Event, built from the line by
    :func:`_checked_line_event` (the same as :func:`event_from_json` makes), is made only
    for a detector that is asked. Any other line is parsed again and read by
    :func:`event_from_json`, which says what is wrong with it."""
    engine = DetectionEngine(rules)
    parsed = _Lines(strict, on_bad, source)
    lines: list[str] = []
    n = number = 0
    last = -math.inf
    # Local names for what is a Python callable anyway (orjson, fromisoformat) and for
    # the slow path's parser; the engine's methods and this module's Final constants
    # are used directly, which the compiled build turns into C calls and constants.
    loads, parse, parse_ts = _loads, event_from_json, _parse_ts
    build = _built_once(_checked_line_event)
    clock = EpochClock() if _DIGITS else None
    # the loop of _Lines.events, inline: a generator's resume per line is a tenth of
    # what the rest of reading a line costs
    for raw in fh:
        number += 1
        t = math.nan  # (until the line is read as the common line)
        try:
            line = decode_line(raw)
        except LINE_REFUSED:
            pass  # not the common line: read the slow way below, which says why
        else:
            row: _Row = fields_of(line)
            text, actor, action, resource, ids, count, outcome, _, ip, _, _ = row
            if count >= 0:
                if clock is not None:
                    t = clock.seconds(text)
                if t != t:  # not the export's own shape of time: fromisoformat reads it
                    try:
                        ts = parse_ts(text)
                    except ValueError:
                        pass  # event_from_json says why
                    else:
                        if ts.tzinfo is not None:
                            t = _seconds(ts - _EPOCH)
        if t != t:
            try:
                event = parse(loads(raw))
            except ValueError as exc:
                parsed.bad(raw, exc, number)
                continue
            t = event.ts.timestamp()  # (the same order as the times': microseconds fit)
            if t < last:
                return number
            last = t
            n += 1
            found = engine.observe(event, t)
        else:
            if t < last:
                return number
            last = t
            n += 1
            found = engine.observe_fields(
                t, actor, action, resource, outcome, ids, count, ip, line, build
            )
        if found:
            lines.extend(_dumps(f.to_contract()) + "\n" for f in found)
    return lines, n, parsed.skipped


def _checked_line_event(line: ExportLine) -> Event:
    """What :func:`event_from_json` makes of a line that decoded as an
    :class:`~alerts.export_line.ExportLine` (the engine asks for it for the few reads a
    detector is shown, exports with thousands of ids among them): the same Event, with
    nothing checked again."""
    seq = line.seq
    return Event(
        ts=_parse_ts(line.ts),
        actor=line.actor,
        action=line.action,
        resource=line.resource,
        count=line.count,
        outcome=line.outcome,
        record_ids=tuple(line.record_ids),
        ip=line.ip,
        channel=line.channel,
        details=line.details,
        seq=seq if type(seq) is int else None,
    )


def _built_once(build: Callable[[Any], Event]) -> Callable[[Any], Event]:
    """``build``, remembering its last line: the engine may ask for one line's Event
    several times (each detector shown it, then the findings), and gets the same one."""
    last: list[Any] = [None, None]

    def event_of(obj: Any) -> Event:
        if last[0] is not obj:
            last[1] = build(obj)
            last[0] = obj  # (held: no later line can reuse its identity)
        event: Event = last[1]
        return event

    return event_of
