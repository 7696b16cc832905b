"""The guided tour printed by ``crmguard demo``: the product's promises, shown live.

Every step goes through the same guarded service as real users, so the tour's own
requests land in the ledger too.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from sqlalchemy import select

import crm_models
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


def _contact_of(app: App, username: str) -> int:
    users, contacts = crm_models.User.__table__, crm_models.Contact.__table__
    with app.engine.connect() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()
        cid = (
            conn.execute(
                select(contacts.c.id).where(contacts.c.owner_id == user_id).order_by(contacts.c.id)
            )
            .scalars()
            .first()
        )
    if cid is None:
        raise RuntimeError(f"{username} owns no contacts")
    return int(cid)


def run_tour(settings: Settings, summary: DemoSummary) -> None:
    """Print the tour for a freshly seeded home."""
    d = summary.dataset
    app = open_app(settings)
    try:
        target = _contact_of(app, d.rep_same_team)

        _step(1, "Row scope: a sales rep cannot open another team's client")
        row = app.crm.view(_ctx(app, d.rep_same_team), "contact", target)
        console.print(
            f"{d.rep_same_team} (owner, scope own) -> contact {target}: "
            f"{row['first_name']} {row['last_name']}",
            highlight=False,
        )
        row = app.crm.view(_ctx(app, d.departing), "contact", target)
        console.print(
            f"{d.departing} (head of that team, scope team) -> contact {target}: [green]allowed[/]",
            highlight=False,
        )
        try:
            app.crm.view(_ctx(app, d.rep_other_team), "contact", target)
            console.print("[red]unexpected: the view was allowed[/]")
        except (AccessDenied, crm_models.RecordNotFound) as exc:
            console.print(
                f"{d.rep_other_team} (another team) -> contact {target}: "
                f"[red]refused[/] ({exc}); the refusal is in the ledger",
                highlight=False,
            )

        _step(2, "Field masking: support reads contacts without phone or email")
        row = app.crm.view(_ctx(app, d.support), "contact", target)
        console.print(
            escape(
                f"{d.support} sees: {row['first_name']} {row['last_name']}, "
                f"email={row['email']}, phone={row['phone']}"
            ),
            highlight=False,
        )

        _step(3, "The ledger: append-only, hash-chained, keyed, verified")
        result = app.crm.audit_verify(operator_context("demo"))
        state = "[green]intact[/]" if result.ok else f"[red]TAMPERED[/] ({result.problem})"
        console.print(f"{result.checked:,} events checked: {state}")

        _step(4, "What did the departing manager take?")
        owner_ctx = _ctx(app, d.owner)
        exports = app.crm.audit_entries(owner_ctx, actor=d.departing, action="export", limit=None)
        rows = sum(e.count for e in exports if e.outcome == "allowed")
        last = [e for e in exports if e.outcome == "allowed"][:5]
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
        _step(5, "An encrypted backup, restored and verified, not hoped for")
        m = backups.run_backup(settings).manifest
        console.print(
            f"backup {m.backup_id}: {m.plaintext_bytes / 1e6:.1f} MB -> "
            f"{m.stored_bytes / 1e6:.1f} MB stored (zstd + AES-256-GCM, key {m.key_id}) "
            f"in {m.seconds:.1f}s",
            highlight=False,
        )
        report = backups.verify(settings, m.backup_id)
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
