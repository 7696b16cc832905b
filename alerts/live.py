"""The live loop: tail the ledger, detect, store, queue, respond; commit with the cursor.

The ledger is the event stream. The loop reads entries after its cursor (a row in
``alert_cursor``), hands each to the detection object, and commits the alerts it raised,
their outbox messages, any response, and the new cursor in ONE transaction. So a kill at
any instant leaves either all of a batch's effects or none: after a restart the batch is
read again and nothing is skipped or alerted twice. A batch that found nothing need not
save the cursor at once (it is saved at least every second, and whenever the loop is
caught up): replaying such events after a kill finds nothing again.

Detectors keep state (windows, baselines) in memory. At start that state is rebuilt by
replaying the ledger from ``cursor - warmup`` up to the cursor with findings discarded
(they were handled before the stop), so a restart neither forgets a half-filled window
nor repeats what it already said. Status changes made elsewhere (``alerts resolve`` or
``false-positive`` in the CLI) reach detection the same way: as ledger events
(``alert.resolve``, ``alert.false_positive``) read here, turned into ``close`` or
``false_positive`` feedback, in order, also during the rebuild.

Ledger sequence numbers commit in order (an entry is only inserted after its predecessor
is visible), so ``seq > cursor`` never passes over an entry that commits later.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from alerts import outbox, store
from alerts.model import Event, Finding
from alerts.response import Responder
from alerts.schema import alert_cursor
from audit import Ledger, audit_ledger, parse_ts

log = structlog.get_logger("alerts.live")

Clock = Callable[[], datetime]
CURSOR = "live"
#: Seconds a cursor with nothing else to commit may stay in memory (fewer writes while
#: the ledger is busy and nothing is found).
CURSOR_SAVE_EVERY = 1.0
#: Ledger actions that are feedback to detection rather than activity to score.
FEEDBACK_ACTIONS = frozenset({"alert.resolve", "alert.false_positive"})
_COLUMNS = (
    audit_ledger.c.seq,
    audit_ledger.c.ts,
    audit_ledger.c.actor,
    audit_ledger.c.action,
    audit_ledger.c.resource,
    audit_ledger.c.record_ids,
    audit_ledger.c["count"],
    audit_ledger.c.outcome,
    audit_ledger.c.channel,
    audit_ledger.c.ip,
    audit_ledger.c.details,
)


class Detection(Protocol):
    """What the live loop needs of detection (``alerts.engine.DetectionEngine`` fits)."""

    @property
    def warmup(self) -> timedelta:
        """How much history rebuilds the detectors' state after a restart."""
        ...

    def process(self, event: Event) -> list[Finding]:
        """Feed one event in time order; findings on a raise or a severity rise."""
        ...

    def close(self, user: str, rule: str) -> None:
        """The alert for (user, rule) was resolved: a new one may be raised later."""
        ...

    def false_positive(self, user: str, rule: str) -> None:
        """Security marked it a false positive: learn from it, and close it."""
        ...


def _now() -> datetime:
    return datetime.now(UTC)


def event_of(row: Any) -> Event:
    """A ledger row as detectors see it."""
    return Event(
        ts=parse_ts(row.ts),
        actor=row.actor,
        action=row.action,
        resource=row.resource,
        count=int(row._mapping["count"]),
        outcome=row.outcome,
        record_ids=tuple(json.loads(row.record_ids)),
        ip=row.ip,
        channel=row.channel,
        details=json.loads(row.details),
        seq=int(row.seq),
    )


@dataclass(frozen=True)
class Handled:
    """What one finding did once committed (for logs, tests and the benchmark)."""

    alert_id: int
    new: bool
    escalated: bool
    channels: tuple[str, ...]
    responded: bool


def read_cursor(conn: Connection, name: str = CURSOR) -> int | None:
    row = conn.execute(select(alert_cursor.c.seq).where(alert_cursor.c.name == name)).first()
    return None if row is None else int(row[0])


class LiveLoop:
    """Tails the ledger into detection and commits what it finds (see module doc).

    ``make_detection`` builds a fresh detection object; the loop calls it at every
    (re)start, so state rebuilt from the ledger is never mixed with state that saw events
    whose effects were not committed.
    """

    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        make_detection: Callable[[], Detection],
        *,
        routes: Mapping[str, str],
        responder: Responder | None = None,
        poll_interval: float = 0.1,
        batch: int = 1000,
        clock: Clock = _now,
        name: str = CURSOR,
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.make_detection = make_detection
        self.detection = make_detection()
        self.routes = dict(routes)
        self.responder = responder
        self.poll_interval = poll_interval
        self.batch = batch
        self.clock = clock
        self.name = name
        self.cursor: int | None = None
        self._saved_seq = 0  # the cursor as committed in the database
        self._saved = 0.0  # when it was committed (monotonic)
        self.handled: list[Handled] = []

    # -- start: the cursor and the rebuilt state ---------------------------------------

    def start(self) -> int:
        """Load (or create) the cursor and rebuild detector state; returns events replayed."""
        with self.engine.begin() as conn:
            cursor = read_cursor(conn, self.name)
            if cursor is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(alert_cursor).values(
                                name=self.name, seq=0, updated_at=self.clock()
                            )
                        )
                    cursor = 0
                except IntegrityError:  # another instance created it first
                    cursor = read_cursor(conn, self.name) or 0
        self.detection = self.make_detection()  # state comes from the ledger, nothing else
        replayed = 0
        if cursor > 0:
            for event in self._warmup_events(cursor):
                self._feed(event)
                replayed += 1
        self.cursor = self._saved_seq = cursor
        self._saved = time.monotonic()
        log.info("alerts.live_started", cursor=cursor, replayed=replayed)
        return replayed

    def _warmup_events(self, cursor: int) -> Iterator[Event]:
        with self.engine.connect() as conn:
            ts = conn.execute(
                select(audit_ledger.c.ts).where(audit_ledger.c.seq == cursor)
            ).scalar()
            if ts is None:
                return
            since = parse_ts(ts) - self.detection.warmup
            first = conn.execute(
                select(func.min(audit_ledger.c.seq)).where(
                    audit_ledger.c.ts >= since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                )
            ).scalar()
        after = int(first or cursor) - 1
        while after < cursor:
            rows = self._read(after, limit=self.batch, upto=cursor)
            if not rows:
                return
            for row in rows:
                yield event_of(row)
            after = int(rows[-1].seq)

    # -- one step ------------------------------------------------------------------------

    def _read(self, after: int, limit: int, upto: int | None = None) -> list[Any]:
        stmt = select(*_COLUMNS).where(audit_ledger.c.seq > after)
        if upto is not None:
            stmt = stmt.where(audit_ledger.c.seq <= upto)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt.order_by(audit_ledger.c.seq).limit(limit)).all())

    def _feed(self, event: Event) -> list[Finding]:
        if event.action in FEEDBACK_ACTIONS:
            user, rule = event.details.get("user"), event.details.get("rule")
            if isinstance(user, str) and isinstance(rule, str):
                if event.action == "alert.false_positive":
                    self.detection.false_positive(user, rule)
                else:
                    self.detection.close(user, rule)
            return []
        if event.resource == "alert":  # the room's own raises and acks are not activity
            return []
        return self.detection.process(event)

    def step(self) -> int:
        """Process the next batch after the cursor; returns how many events it read.

        Raises on a database error; the caller must then :meth:`start` again, because the
        detectors have seen events whose effects were not committed.
        """
        if self.cursor is None:
            self.start()
        assert self.cursor is not None
        rows = self._read(self.cursor, self.batch)
        if not rows:
            if self.cursor != self._saved_seq:  # caught up: save where we are
                self._commit(self.cursor, [])
            return 0
        findings: list[Finding] = []
        for row in rows:
            findings.extend(self._feed(event_of(row)))
        last = int(rows[-1].seq)
        if not findings and time.monotonic() - self._saved < CURSOR_SAVE_EVERY:
            # Nothing to commit but the cursor: keep it in memory for a moment. After a
            # kill these events are read again from the saved cursor and, with the same
            # rebuilt state, again find nothing, so this costs no correctness.
            self.cursor = last
            return len(rows)
        self._commit(last, findings)
        return len(rows)

    def _commit(self, last: int, findings: list[Finding]) -> None:
        """Store the findings and move the saved cursor to ``last``, in one transaction."""
        handled: list[Handled] = []
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(alert_cursor)
                .where(alert_cursor.c.name == self.name, alert_cursor.c.seq == self._saved_seq)
                .values(seq=last, updated_at=self.clock())
            ).rowcount
            if moved != 1:
                raise RuntimeError(
                    f"the alerts cursor {self.name!r} moved under this loop "
                    "(is another daemon running on this database?)"
                )
            for finding in findings:
                handled.append(self._handle(conn, finding))
        self.cursor = self._saved_seq = last
        self._saved = time.monotonic()
        self.handled.extend(handled)
        for h in handled:
            log.info(
                "alerts.alert",
                alert_id=h.alert_id,
                new=h.new,
                escalated=h.escalated,
                channels=list(h.channels),
            )

    def _handle(self, conn: Connection, finding: Finding) -> Handled:
        now = self.clock()
        stored = store.record_finding(conn, self.ledger, finding, now)
        channels: list[str] = []
        responded = False
        if stored.new or stored.escalated:
            kind: outbox.MessageKind = "raised" if stored.new else "escalated"
            channels = outbox.enqueue(conn, stored.alert, kind, self.routes, now)
            if finding.response and self.responder is not None:
                responded = self.responder.respond(
                    conn, finding.user, finding.response, stored.alert
                )
        return Handled(stored.alert.id, stored.new, stored.escalated, tuple(channels), responded)

    # -- running -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Step until ``stop`` is set; a failed step rebuilds state and tries again."""
        failures = 0
        while not stop.is_set():
            began = time.monotonic()
            try:
                if self.cursor is None:
                    self.start()
                read = self.step()
                failures = 0
            except Exception as exc:  # the loop must outlive a database hiccup
                failures += 1
                self.cursor = None  # forget uncommitted state: rebuild on the next pass
                log.error("alerts.live_failed", problem=str(exc).splitlines()[0][:300])
                stop.wait(min(0.5 * 2**failures, 30.0))
                continue
            if read < self.batch:  # caught up: look again one interval after this look
                stop.wait(max(0.0, self.poll_interval - (time.monotonic() - began)))

    def lag(self) -> tuple[int | None, int]:
        """(cursor, ledger head): how far behind the ledger detection is."""
        with self.engine.connect() as conn:
            cursor = read_cursor(conn, self.name)
            head = conn.execute(select(func.max(audit_ledger.c.seq))).scalar()
        return cursor, int(head or 0)
