"""``crmguard access``: ask the policy, explain it, and restrict users."""

from __future__ import annotations

from datetime import timedelta

import typer
from sqlalchemy import func, select

import crm_models
from access import add_restriction, lift_restriction, list_restrictions
from crmguard.cli.common import console, fail, friendly_errors, print_json
from crmguard.cli.session import app_for, user_context

app = typer.Typer(help="Who may do what: check, explain, restrict.", no_args_is_help=True)


def parse_target(target: str) -> tuple[str, int | None]:
    """``contact`` or ``contact:42`` -> (resource, id)."""
    name, sep, raw_id = target.partition(":")
    if not sep:
        return name, None
    try:
        return name, int(raw_id)
    except ValueError:
        raise fail(f"record id in {target!r} must be a number, e.g. contact:42") from None


@app.command("check")
@friendly_errors
def check(
    ctx: typer.Context,
    user: str = typer.Argument(..., help="Username."),
    action: str = typer.Argument(..., help="Action, e.g. view, export, audit.read."),
    target: str = typer.Argument(..., help="RESOURCE or RESOURCE:ID, e.g. contact:42."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """May USER do ACTION on RESOURCE[:ID]? Exit 0 allowed, 1 denied, 2 error."""
    resource, record_id = parse_target(target)
    with app_for(ctx) as crm_app:
        rctx = user_context(crm_app, user)
        decision = crm_app.crm.decide(rctx, action, resource)
        result = decision.to_json()
        if decision.allowed and record_id is not None:
            spec = crm_models.resource(resource)
            table = spec.model.__table__
            with crm_app.engine.connect() as conn:
                exists = conn.execute(
                    select(func.count()).select_from(table).where(table.c.id == record_id)
                ).scalar_one()
                if not exists:
                    raise fail(f"{resource} {record_id} does not exist")
                visible = conn.execute(
                    select(func.count())
                    .select_from(table)
                    .where(
                        table.c.id == record_id,
                        crm_app.access.scope_clause(decision, rctx.principal),
                    )
                ).scalar_one()
            if not visible:
                result["allowed"] = False
                result["reason"] = (
                    f"{resource} {record_id} is outside {user}'s {decision.scope} scope"
                )
    if as_json:
        print_json(result)
    else:
        verdict = "[green]allowed[/]" if result["allowed"] else "[red]denied[/]"
        console.print(f"{verdict}  rule: {result['rule']}  scope: {result['scope']}")
        if result["masked_fields"]:
            console.print(f"masked: {', '.join(result['masked_fields'])}")
        if result["limit"] is not None:
            console.print(f"export cap: {result['limit']} rows")
        if result.get("reason"):
            console.print(result["reason"], highlight=False)
    raise typer.Exit(0 if result["allowed"] else 1)


@app.command("explain")
@friendly_errors
def explain(
    ctx: typer.Context,
    user: str = typer.Argument(..., help="Username."),
    action: str = typer.Argument(..., help="Action, e.g. view."),
    target: str = typer.Argument(..., help="RESOURCE:ID, e.g. contact:42."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Why may (or may not) USER do ACTION on this record?"""
    resource, record_id = parse_target(target)
    with app_for(ctx) as crm_app:
        rctx = user_context(crm_app, user)
        record = None
        owner_team = None
        with crm_app.engine.connect() as conn:
            if record_id is not None:
                record = crm_models.get_record(conn, resource, record_id)
                owner_field = crm_models.resource(resource).owner_field
                owner_id = record.get(owner_field) if owner_field else None
                if owner_id is not None:
                    users = crm_models.User.__table__
                    owner_team = conn.execute(
                        select(users.c.team_id).where(users.c.id == owner_id)
                    ).scalar()
            from access import active_restrictions

            restrictions = active_restrictions(conn, user, crm_app.crm.clock())
        explanation = crm_app.access.explain(
            rctx.principal, action, resource, record, owner_team, restrictions
        )
    if as_json:
        print_json(explanation.to_json())
    else:
        for line in explanation.lines:
            console.print(line, highlight=False)


@app.command("restrict")
@friendly_errors
def restrict(
    ctx: typer.Context,
    user: str = typer.Argument(..., help="Username to restrict."),
    kind: str = typer.Argument(..., help="suspended | exports_frozen | departing"),
    by: str = typer.Option(..., "--by", help="Admin or security user making the change."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the ledger)."),
    hours: float | None = typer.Option(None, "--hours", help="Temporary: lift after N hours."),
) -> None:
    """Suspend a user, freeze their exports, or start the departing-employee flow."""
    with app_for(ctx) as crm_app:
        actor = user_context(crm_app, by)
        crm_app.crm.principal(user)  # refuse unknown users with a clear message
        now = crm_app.crm.clock()
        expires = now + timedelta(hours=hours) if hours else None
        with crm_app.engine.begin() as conn:
            decision = crm_app.crm.require(conn, actor, "restrict", "user")
            restriction = add_restriction(
                conn,
                username=user,
                kind=kind,
                reason=reason,
                created_by=by,
                now=now,
                expires_at=expires,
            )
            crm_app.crm.record(
                crm_app.crm.event(
                    actor,
                    "restrict",
                    "user",
                    record_ids=[user],
                    details={
                        "restriction": kind,
                        "reason": reason,
                        "expires_at": str(expires) if expires else None,
                        "rule": decision.rule,
                    },
                ),
                conn,
            )
    console.print(f"{user}: {kind} (restriction #{restriction.id})", highlight=False)


@app.command("lift")
@friendly_errors
def lift(
    ctx: typer.Context,
    restriction_id: int = typer.Argument(..., help="Restriction number (see access restrictions)."),
    by: str = typer.Option(..., "--by", help="Admin or security user making the change."),
) -> None:
    """Lift a restriction."""
    with app_for(ctx) as crm_app:
        actor = user_context(crm_app, by)
        with crm_app.engine.begin() as conn:
            crm_app.crm.require(conn, actor, "restrict", "user")
            restriction = lift_restriction(
                conn, restriction_id, lifted_by=by, now=crm_app.crm.clock()
            )
            crm_app.crm.record(
                crm_app.crm.event(
                    actor,
                    "restrict",
                    "user",
                    record_ids=[restriction.username],
                    details={"lifted": restriction.kind, "restriction": restriction_id},
                ),
                conn,
            )
    console.print(f"lifted restriction #{restriction_id}")


@app.command("restrictions")
@friendly_errors
def restrictions(
    ctx: typer.Context,
    user: str | None = typer.Argument(None, help="Only this user's."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """List restrictions (active and past)."""
    with app_for(ctx) as crm_app, crm_app.engine.connect() as conn:
        items = list_restrictions(conn, user)
    data = [
        {
            "id": r.id,
            "username": r.username,
            "kind": r.kind,
            "reason": r.reason,
            "created_by": r.created_by,
            "created_at": str(r.created_at),
            "expires_at": str(r.expires_at) if r.expires_at else None,
            "lifted_at": str(r.lifted_at) if r.lifted_at else None,
        }
        for r in items
    ]
    if as_json:
        print_json(data)
        return
    for d in data:
        state = "lifted" if d["lifted_at"] else "active"
        console.print(
            f"#{d['id']} {d['username']} {d['kind']} ({state}) by {d['created_by']}: {d['reason']}",
            highlight=False,
        )
