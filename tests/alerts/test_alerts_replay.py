"""alerts/replay.py: the replay contract (time order, contract lines, determinism, bad
lines named and skipped or fatal with strict)."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.errors import ReplayError
from alerts.export_line import REFUSED as LINE_REFUSED
from alerts.export_line import decode as decode_line
from alerts.replay import _checked_event, _checked_line_event, event_from_json, replay
from alerts.rules import load_rules

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def line(t: datetime, actor: str, action: str = "list", n: int = 0, **extra: Any) -> dict:
    ids = list(range(1, n + 1))
    return {
        "seq": None, "ts": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": actor,
        "action": action, "resource": "contact", "record_ids": ids, "count": len(ids),
        "outcome": "allowed", "channel": "web", "ip": "10.0.0.1", "request_id": None,
        "details": {}, "prev_hash": None, "hash": None, **extra,
    }  # fmt: skip


def stream() -> list[dict]:
    """Ordinary reading, a burst by anna, probing by bob, a departure, a failed backup."""
    out = []
    for i in range(30):
        out.append(line(T0 + timedelta(minutes=7 * i), "carl", n=10))
    out.append(line(T0 + timedelta(hours=1), "anna", "export", n=4812))
    for i in range(9):
        out.append(line(T0 + timedelta(hours=2, seconds=20 * i), "bob", "view", outcome="denied"))
    out.append(line(T0 + timedelta(hours=3), "admin", "restrict", record_ids=["carl"],
                    details={"restriction": "departing"}, resource="user"))  # fmt: skip
    out.append(line(T0 + timedelta(hours=4), "system:daemon", "backup.run", outcome="error",
                    resource="backup", details={"error": "disk full"}))  # fmt: skip
    for seq, item in enumerate(out, start=1):
        item["seq"] = seq
    return out


def write(path: Path, items: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in items))
    return path


def run(path: Path, **kw: Any) -> tuple[list[dict], Any]:
    out = io.StringIO()
    result = replay(path, load_rules(None), out, **kw)
    return [json.loads(x) for x in out.getvalue().splitlines()], result


def test_contract_lines_in_the_order_they_happen(tmp_path: Path) -> None:
    lines, result = run(write(tmp_path / "e.jsonl", stream()))
    assert result.events == 42 and result.skipped == 0 and result.findings == len(lines)
    assert [(x["user"], x["rule"]) for x in lines] == [
        ("anna", "baseline_hour"), ("bob", "probing"), ("system", "backup_failed"),
    ]  # fmt: skip
    first = lines[0]
    assert set(first) == {"ts", "user", "rule", "severity", "score", "summary"}
    assert first["ts"] == "2026-11-23T10:00:00Z"
    assert first["severity"] == "critical" and isinstance(first["score"], float)
    assert first["summary"].startswith("anna exported 4,812 records this hour")
    assert [x["ts"] for x in lines] == sorted(x["ts"] for x in lines)


def test_input_out_of_order_is_replayed_in_time_order(tmp_path: Path) -> None:
    items = stream()
    shuffled = items[:]
    random.Random(1).shuffle(shuffled)
    a, _ = run(write(tmp_path / "a.jsonl", items))
    b, _ = run(write(tmp_path / "b.jsonl", shuffled))
    assert a == b


def test_same_input_same_output_byte_for_byte(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", stream())
    outs = []
    for _ in range(2):
        out = io.StringIO()
        replay(path, load_rules(None), out)
        outs.append(out.getvalue())
    assert outs[0] == outs[1] and outs[0]


def test_only_the_minimal_fields_are_needed(tmp_path: Path) -> None:
    bare = [{"ts": "2026-11-23T10:00:00+00:00", "actor": "x", "action": "export",
             "resource": "contact", "count": 900, "outcome": "allowed"}]  # fmt: skip
    lines, _ = run(write(tmp_path / "e.jsonl", bare))
    # one export of 900 by a user with no history: above the hour's floor (one request
    # is judged by its size; a burst of exports is several requests)
    assert [(x["user"], x["rule"]) for x in lines] == [("x", "baseline_hour")]


def test_malformed_lines_are_named_counted_and_skipped(tmp_path: Path) -> None:
    items: list[Any] = stream()
    items.insert(3, "{not json")
    items.insert(5, {"ts": "yesterday", "actor": "x", "action": "view", "resource": "contact",
                     "outcome": "allowed"})  # fmt: skip
    items.insert(7, {"ts": "2026-11-23T10:00:00Z", "action": "view"})
    items.insert(9, "")  # blank lines are not errors
    items.insert(11, {**stream()[0], "count": -3})
    bad: list[tuple[int, str]] = []
    lines, result = run(write(tmp_path / "e.jsonl", items), on_bad=lambda n, r: bad.append((n, r)))
    assert result.skipped == 4 and result.events == 42
    assert [n for n, _ in bad] == [4, 6, 8, 12]
    assert bad[0][1] == "not valid JSON"
    assert "'ts' is not an RFC 3339 time" in bad[1][1]
    assert "'actor' missing" in bad[2][1]
    assert "'count'" in bad[3][1]
    assert [x["user"] for x in lines] == ["anna", "bob", "system"]


@pytest.mark.parametrize("ledger_keys", [True, False])
def test_values_no_export_holds_are_malformed_lines_not_a_crash(
    tmp_path: Path, ledger_keys: bool
) -> None:
    # an id that is an object, a list, a float or true; an address or channel that is
    # not text: the ledger stores none of them, and an object id would otherwise stop
    # the replay (unhashable) where the contract says skip and count
    good = stream()
    if not ledger_keys:  # the common shape without the ledger's three keys
        good = [{k: v for k, v in x.items() if k not in ("request_id", "prev_hash", "hash")}
                for x in good]  # fmt: skip
    odd = [
        {**good[0], "action": "view", "record_ids": [{"id": 1}], "count": 1},
        {**good[0], "action": "view", "record_ids": [[1]], "count": 1},
        {**good[0], "record_ids": [1, 2.5], "count": 2},
        {**good[0], "record_ids": [True], "count": 1},
        {**good[0], "ip": ["10.0.0.1"]},
        {**good[0], "ip": 167772161},
        {**good[0], "channel": {"web": 1}},
    ]
    items: list[Any] = [good[0], *odd, *good[1:]]
    bad: list[tuple[int, str]] = []
    lines, result = run(write(tmp_path / "e.jsonl", items), on_bad=lambda n, r: bad.append((n, r)))
    assert result.skipped == len(odd) and result.events == len(good)
    assert [n for n, _ in bad] == list(range(2, 2 + len(odd)))
    assert [r.split(" ")[0] for _, r in bad] == ["'record_ids'"] * 4 + ["'ip'"] * 2 + ["'channel'"]
    assert [x["user"] for x in lines] == ["anna", "bob", "system"]
    for item in odd:
        with pytest.raises(ValueError):
            event_from_json(dict(item))


def test_strict_stops_at_the_first_malformed_line(tmp_path: Path) -> None:
    items: list[Any] = stream()
    items.insert(6, "[1, 2")
    path = write(tmp_path / "e.jsonl", items)
    with pytest.raises(ReplayError, match=r"e\.jsonl line 7: not valid JSON"):
        run(path, strict=True)


def test_unreadable_input_is_a_replay_error(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="file not found"):
        run(tmp_path / "missing.jsonl")
    with pytest.raises(ReplayError, match="is a directory"):
        run(tmp_path)


def test_export_lines_become_events_faithfully() -> None:
    raw = stream()[-2]
    e = event_from_json(raw)
    assert (e.actor, e.action, e.resource, e.record_ids) == ("admin", "restrict", "user", ("carl",))
    assert e.details == {"restriction": "departing"} and e.seq == 41
    assert e.ts == T0 + timedelta(hours=3)
    naive = event_from_json({**raw, "ts": "2026-11-23T12:00:00"})
    assert naive.ts.tzinfo is not None  # a time without a zone is UTC


def test_a_decoded_line_becomes_the_event_the_checked_path_makes() -> None:
    """The streaming replay decodes the common line in one checked pass and builds its
    Event from that (:func:`_checked_line_event`): the same Event as
    :func:`event_from_json`; a line of any other shape is refused by the decoder, and so
    read by :func:`event_from_json`, which says what is wrong."""
    for raw in stream():
        for obj in (
            raw, {**raw, "seq": "7"}, {**raw, "ts": "2026-11-23T12:00:00.5+02:00"},
            {**raw, "extra": 1}, {k: v for k, v in raw.items() if k != "seq"},
        ):  # fmt: skip
            text = json.dumps(obj).encode()
            assert _checked_line_event(decode_line(text)) == event_from_json(json.loads(text))
    base = stream()[0]
    for odd in (
        {"record_ids": [True]}, {"record_ids": [1.0]}, {"record_ids": [{"id": 1}]},
        {"count": True}, {"count": 1.5}, {"ip": 7}, {"channel": []}, {"details": None},
        {"actor": None}, {"ts": 1700000000},
    ):  # fmt: skip
        with pytest.raises(LINE_REFUSED):
            decode_line(json.dumps({**base, **odd}).encode())
    for missing in ("ts", "actor", "record_ids", "count", "ip", "details"):
        with pytest.raises(LINE_REFUSED):
            decode_line(json.dumps({k: v for k, v in base.items() if k != missing}).encode())
    with pytest.raises(LINE_REFUSED):
        decode_line(b"{not json")


def test_the_common_line_is_taken_as_parsed_into_the_same_event() -> None:
    """A line with exactly the export's keys (with the ledger's own or without) becomes
    its event without the field-by-field path; the event is the same, and every
    other line still takes the checked path."""
    ledger = ("request_id", "prev_hash", "hash")
    for raw in stream():
        bare = {k: v for k, v in raw.items() if k not in ledger}
        odd = [
            {**bare, "seq": "7"}, {**bare, "count": None}, {**bare, "details": None},
            {**raw, "extra": 1}, {k: v for k, v in raw.items() if k != "channel"},
        ]  # fmt: skip
        for item in (raw, bare, *odd):
            event = event_from_json(json.loads(json.dumps(item)))
            assert event == _checked_event(json.loads(json.dumps(item)))
    for bad, why in (("count", True), ("ts", "x"), ("record_ids", "1,2")):
        item = {**stream()[0], bad: why}
        with pytest.raises(ValueError) as fast:
            event_from_json(dict(item))
        with pytest.raises(ValueError) as checked:
            _checked_event(dict(item))
        assert str(fast.value) == str(checked.value)


def test_out_of_order_input_reports_each_bad_line_once(tmp_path: Path) -> None:
    """The streaming pass meets a bad line, then an earlier event, and starts again on the
    sorting path: every bad line is still reported once, and the output is the sorted
    file's."""
    items: list[Any] = stream()
    ordered = write(tmp_path / "ordered.jsonl", items)
    late = items[:]
    late.insert(35, late.pop(5))  # an event 30 lines late: out of order at line 36
    late.insert(3, "{not json")  # before the disorder
    late.append('{"ts": "x"}')  # after it
    seen: list[int] = []
    a, result = run(write(tmp_path / "late.jsonl", late), on_bad=lambda n, _: seen.append(n))
    b, _ = run(ordered)
    assert seen == [4, len(late)]
    assert result.skipped == 2 and result.events == len(items)
    assert a == b


def test_fields_and_events_give_the_same_findings() -> None:
    """The replay hands the engine most lines as fields (``observe_fields``), building
    the Event only when a detector is asked; the live daemon hands it Events
    (``process``). Over a company where every detector has work, both give the same
    findings, evidence included, and most lines never become an Event."""
    from alerts.engine import DetectionEngine
    from alerts.evaluation.generator import generate

    rules = load_rules(None)
    lines = [json.loads(json.dumps(x)) for x in generate(2, 10, 28).events]
    by_event, by_fields = DetectionEngine(rules), DetectionEngine(rules)
    built: list[dict] = []

    def build(obj: dict) -> Any:
        built.append(obj)
        return event_from_json(dict(obj))

    a, b = [], []
    for obj in lines:
        event = event_from_json(dict(obj))
        a.extend(by_event.process(event))
        b.extend(
            by_fields.observe_fields(
                event.ts.timestamp(), obj["actor"], obj["action"], obj["resource"],
                obj["outcome"], obj["record_ids"], obj["count"], obj["ip"], obj, build,
            )
        )  # fmt: skip
    assert a and a == b
    assert len({id(x) for x in built}) < len(lines) / 2


def test_lines_off_the_common_shape_replay_as_the_common_ones(tmp_path: Path) -> None:
    """Times with an offset or no zone, the ledger's keys, a missing key: each line takes
    the field path or the Event path, and the output is the plain export's."""
    from alerts.evaluation.generator import generate

    plain = [json.loads(json.dumps(x)) for x in generate(3, 10, 28).events]
    mixed = []
    for i, obj in enumerate(plain):
        item = dict(obj)
        if i % 5 == 1:
            item["ts"] = item["ts"].replace("Z", "+00:00")
        elif i % 5 == 2:
            item["ts"] = item["ts"].removesuffix("Z")
        elif i % 5 == 3:
            item.update(request_id=None, prev_hash=None, hash=None)
        elif i % 5 == 4:
            del item["channel"]
        mixed.append(item)
    a, _ = run(write(tmp_path / "plain.jsonl", plain))
    b, _ = run(write(tmp_path / "mixed.jsonl", mixed))
    assert a and a == b


def test_the_replays_time_arithmetic_is_timestamp() -> None:
    """The streaming replay counts a line's time from the epoch itself (quicker than
    ``timestamp()``): the same float, so the same order and windows."""
    from alerts.replay import _EPOCH, parse_ts

    rng = random.Random(9)
    for _ in range(2000):
        seconds = rng.randrange(0, 4_000_000_000)
        text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        zone = rng.choice(["Z", "+00:00", "+05:30", "-08:00"])
        ts = parse_ts(f"{text}.{rng.randrange(1_000_000):06d}{zone}")
        assert (ts - _EPOCH).total_seconds() == ts.timestamp()
