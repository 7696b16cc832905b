"""alerts.model.Event: a value, as the frozen dataclass it replaced was (equal by its
fields, unhashable with its dict of details, named fields in its repr, no field set after
it is made in the compiled build)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts import native
from alerts.model import EVENT_FIELD_NAMES, Event

TS = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def make(**changed: object) -> Event:
    fields: dict[str, object] = dict(
        ts=TS, actor="anna", action="export", resource="contact", count=2, outcome="allowed",
        record_ids=(1, 2), ip="10.0.0.1", channel="web", details={"format": "csv"}, seq=7,
    )  # fmt: skip
    fields.update(changed)
    return Event(**fields)  # type: ignore[arg-type]


def test_events_are_equal_by_every_field_and_by_nothing_else() -> None:
    assert make() == make()
    others: tuple[object, ...] = (
        TS.replace(hour=10), "ben", "print", "company", 3, "denied", (1,), None, "api", {}, 8,
    )  # fmt: skip
    for name, other in zip(EVENT_FIELD_NAMES, others, strict=True):
        assert make() != make(**{name: other}), name
    assert make() != ("not", "an", "event")


def test_the_defaults_are_the_dataclass_defaults() -> None:
    plain = Event(TS, "anna", "view", "contact", 1, "allowed")
    assert (plain.record_ids, plain.ip, plain.channel, plain.details, plain.seq) == (
        (), None, None, {}, None,
    )  # fmt: skip
    # each Event its own details, as default_factory=dict gave
    assert plain.details is not Event(TS, "anna", "view", "contact", 1, "allowed").details


def test_an_event_is_unhashable_and_its_repr_names_its_fields() -> None:
    with pytest.raises(TypeError):
        hash(make())
    text = repr(make())
    assert text.startswith("Event(ts=datetime.datetime(2026, 11, 30, 9, 0")
    assert all(f"{name}=" in text for name in EVENT_FIELD_NAMES)


@pytest.mark.skipif(not native.status().compiled, reason="the sources: mypy enforces Final")
def test_a_compiled_event_refuses_a_changed_field() -> None:
    event = make()
    with pytest.raises(AttributeError):
        event.actor = "ben"  # type: ignore[misc]
    assert event.actor == "anna"
