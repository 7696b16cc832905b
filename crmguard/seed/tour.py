"""The guided tour printed by ``crmguard demo``: the product's promises, shown live.

Every step goes through the same guarded service as real users, so the tour's own
requests land in the ledger too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from sqlalchemy import select

import crm_models
from access import MASK
from crmguard import backups
from crmguard.app import App, open_app
from crmguard.seed.demo import DemoSummary
from crmguard.service import AccessDenied, RequestContext, operator_context
from crmguard.settings import Settings

console = Console()

#: Later rooms (alerts, backups) add steps here.
EXTRA_STEPS: list[Callable[[App, DemoSummary], None]] = []


def _step(number: int, title: str) -> None:
    console.print()
    console.rule(f"[bold cyan]{number}. {title}", align="left")


def _ctx(app: App, username: str) -> RequestContext:
    return RequestContext(principal=app.crm.principal(username), channel="cli")


@dataclass(frozen=True)
class TourFacts:
    """What the tour showed, so that a test can hold the story to its promises."""

    owner_view_allowed: bool
    manager_view_allowed: bool
    other_team_refused: bool
    support_masked: bool
    ledger_intact: bool
    departing_exports: int
    departing_rows: int
    departing_changes: int
    old_values_recovered: int
    departing_alerts: tuple[str, ...]
    backup_verified: bool


def _story_contact(app: App, summary: DemoSummary) -> tuple[str, int]:
    """A client of the departing manager's team and the seller who owns it: the rep of the
    story if they own one (a small demo may leave a rep without clients), else another
    seller of that team."""
    d = summary.dataset
    users, contacts = crm_models.User.__table__, crm_models.Contact.__table__
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(users.c.username, contacts.c.id)
            .join(contacts, contacts.c.owner_id == users.c.id)
            .where(users.c.team_id == d.departing_team_id, users.c.active.is_(True))
            .order_by(contacts.c.id)
        ).all()
    owned: dict[str, int] = {}
    for username, cid in rows:
        owned.setdefault(username, int(cid))
    for username in (d.rep_same_team, *sorted(owned), d.departing):
        if username in owned and username != d.departing:
            return username, owned[username]
    if d.departing in owned:
        return d.departing, owned[d.departing]
    raise RuntimeError(f"nobody in {d.departing_team} owns a contact: seed more contacts")


def run_tour(settings: Settings, summary: DemoSummary) -> TourFacts:
    """Print the tour for a freshly seeded home; return what it showed."""
    d = summary.dataset
    app = open_app(settings)
    try:
        seller, target = _story_contact(app, summary)

        _step(1, "Row scope: a sales rep cannot open another team's client")
        row = app.crm.view(_ctx(app, seller), "contact", target)
        owner_view_allowed = True
        console.print(
            f"{seller} (owner, scope own) -> contact {target}: "
            f"{escape(str(row['first_name']))} {escape(str(row['last_name']))}",
            highlight=False,
        )
        row = app.crm.view(_ctx(app, d.departing), "contact", target)
        manager_view_allowed = True
        console.print(
            f"{d.departing} (head of that team, scope team) -> contact {target}: [green]allowed[/]",
            highlight=False,
        )
        try:
            app.crm.view(_ctx(app, d.rep_other_team), "contact", target)
            other_team_refused = False
            console.print("[red]unexpected: the view was allowed[/]")
        except (AccessDenied, crm_models.RecordNotFound) as exc:
            other_team_refused = True
            console.print(
                f"{d.rep_other_team} (another team) -> contact {target}: "
                f"[red]refused[/] ({escape(str(exc))}); the refusal is in the ledger",
                highlight=False,
            )

        _step(2, "Field masking: support reads contacts without phone or email")
        row = app.crm.view(_ctx(app, d.support), "contact", target)
        support_masked = row["phone"] == MASK and row["email"] == MASK
        console.print(
            escape(
                f"{d.support} sees: {row['first_name']} {row['last_name']}, "
                f"email={row['email']}, phone={row['phone']}"
            ),
            highlight=False,
        )

        _step(3, "The ledger: append-only, hash-chained, keyed, verified")
        result = app.crm.audit_verify(operator_context("demo"))
        ledger_intact = result.ok
        state = "[green]intact[/]" if result.ok else f"[red]TAMPERED[/] ({result.problem})"
        console.print(f"{result.checked:,} events checked: {state}")

        _step(4, "What did the departing manager take?")
        owner_ctx = _ctx(app, d.owner)
        exports = app.crm.audit_entries(owner_ctx, actor=d.departing, action="export", limit=None)
        taken = [e for e in exports if e.outcome == "allowed"]
        rows = sum(e.count for e in taken)
        last = taken[:5]
        console.print(
            Panel.fit(
                f"{d.departing}: {len(exports)} export requests, {rows:,} contact rows in all\n"
                + "\n".join(
                    f"  {e.ts:%Y-%m-%d %H:%M} {e.channel:<4} {e.count:>5} rows (ledger #{e.seq})"
                    for e in last
                ),
                title=f"asked by {d.owner} (this question is itself in the ledger)",
            ),
            highlight=False,
        )
        _step(5, "What did he change? Every old value is kept")
        changed = app.crm.audit_entries(owner_ctx, actor=d.departing, action="update", limit=None)
        recovered = 0
        if changed:
            cid = int(changed.entries[0].record_ids[0])
            history = app.crm.history(owner_ctx, "contact", cid)
            mine = [e for e in history.entries if e.actor == d.departing and e.changes]
            recovered = len(mine)
            for e in mine[-3:]:
                for name, change in e.changes.items():
                    console.print(
                        escape(
                            f"contact {cid} {name}: {change['old']} -> {change['new']} "
                            f"({e.ts:%Y-%m-%d %H:%M}, ledger #{e.seq})"
                        ),
                        highlight=False,
                    )
            console.print(
                f"{len(changed)} changes by {d.departing}; "
                f"see them all: crmguard contacts history {cid} --as {d.owner}",
                highlight=False,
            )
        else:
            console.print(f"{d.departing} changed no client records", highlight=False)

        _step(6, "Leak alerts: what security staff were told, while it happened")
        from crmguard.alerting import AlertingService

        security = _ctx(app, d.security)
        raised = AlertingService(app).list(security, limit=50)
        departing_alerts = tuple(a.rule for a in raised if a.user == d.departing)
        for a in [a for a in raised if a.user == d.departing][:4] or raised[:4]:
            console.print(
                escape(f"#{a.id} {a.severity:<8} {a.user}: {a.summary} ({a.rule}, {a.status})"),
                highlight=False,
            )
        console.print(
            f"{len(raised)} alerts in the inbox, {len(departing_alerts)} about {d.departing}; "
            f"see: crmguard alerts list --as {d.security}",
            highlight=False,
        )

        _step(7, "An encrypted backup, restored and verified, not hoped for")
        m = backups.run_backup(settings).manifest
        console.print(
            f"backup {m.backup_id}: {m.plaintext_bytes / 1e6:.1f} MB -> "
            f"{m.stored_bytes / 1e6:.1f} MB stored (zstd + AES-256-GCM, key {m.key_id}) "
            f"in {m.seconds:.1f}s",
            highlight=False,
        )
        report = backups.verify(settings, m.backup_id)
        backup_verified = report.ok
        ledger = f", ledger {report.ledger.checked:,} events intact" if report.ledger else ""
        state = "[green]verified[/]" if report.ok else f"[red]FAILED[/] ({report.problem})"
        console.print(
            f"restored to a scratch database and checked: {state}{ledger}", highlight=False
        )
        for extra in EXTRA_STEPS:
            extra(app, summary)
    finally:
        app.close()
    console.print()
    console.print(
        f"Explore: crmguard --home {settings.home} audit log --actor {d.departing}", highlight=False
    )
    return TourFacts(
        owner_view_allowed=owner_view_allowed,
        manager_view_allowed=manager_view_allowed,
        other_team_refused=other_team_refused,
        support_masked=support_masked,
        ledger_intact=ledger_intact,
        departing_exports=len(taken),
        departing_rows=rows,
        departing_changes=len(changed),
        departing_alerts=departing_alerts,
        old_values_recovered=recovered,
        backup_verified=backup_verified,
    )
