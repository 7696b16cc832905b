"""``crmguard access``: ask the policy, explain it, and restrict users.

Each command is one call to the guarded service (decided, scoped and recorded there);
``--as`` names the user asking, and without it the home's operator asks.
"""

from __future__ import annotations

import typer

from crmguard.cli.common import console, fail, print_json
from crmguard.cli.session import app_for, context

app = typer.Typer(help="Who may do what: check, explain, restrict.", no_args_is_help=True)

AS_USER = typer.Option(
    None, "--as", help="Ask as this user (needs view on user); default: the home's operator."
)


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
def check(
    ctx: typer.Context,
    user: str = typer.Argument(..., help="Username."),
    action: str = typer.Argument(..., help="Action, e.g. view, export, audit.read."),
    target: str = typer.Argument(..., help="RESOURCE or RESOURCE:ID, e.g. contact:42."),
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """May USER do ACTION on RESOURCE[:ID]? Exit 0 allowed, 1 denied, 2 error."""
    resource, record_id = parse_target(target)
    with app_for(ctx) as crm_app:
        answer = crm_app.crm.check_access(
            context(crm_app, as_user), user, action, resource, record_id
        )
    result = answer.to_json()
    if as_json:
        print_json(result)
    else:
        verdict = "[green]allowed[/]" if answer.allowed else "[red]denied[/]"
        console.print(f"{verdict}  rule: {result['rule']}  scope: {result['scope']}")
        if result["masked_fields"]:
            console.print(f"masked: {', '.join(result['masked_fields'])}")
        if result["limit"] is not None:
            console.print(f"export cap: {result['limit']} rows")
        if answer.reason:
            console.print(answer.reason, highlight=False)
    raise typer.Exit(0 if answer.allowed else 1)


@app.command("explain")
def explain(
    ctx: typer.Context,
    user: str = typer.Argument(..., help="Username."),
    action: str = typer.Argument(..., help="Action, e.g. view."),
    target: str = typer.Argument(..., help="RESOURCE:ID, e.g. contact:42."),
    as_user: str | None = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Why may (or may not) USER do ACTION on this record?"""
    resource, record_id = parse_target(target)
    with app_for(ctx) as crm_app:
        explanation = crm_app.crm.explain_access(
            context(crm_app, as_user), user, action, resource, record_id
        )
    if as_json:
        print_json(explanation.to_json())
    else:
        for line in explanation.lines:
            console.print(line, highlight=False)


@app.command("restrict")
def restrict(
    ctx: typer.Context,
    user: str = typer.Argument(..., help="Username to restrict."),
    kind: str = typer.Argument(..., help="suspended | exports_frozen | departing"),
    by: str | None = typer.Option(
        None, "--by", help="Admin or security user making the change (default: the operator)."
    ),
    reason: str = typer.Option("", "--reason", help="Why (kept in the ledger)."),
    hours: float | None = typer.Option(None, "--hours", help="Temporary: lift after N hours."),
) -> None:
    """Suspend a user, freeze their exports, or start the departing-employee flow."""
    with app_for(ctx) as crm_app:
        restriction = crm_app.crm.restrict_user(
            context(crm_app, by), user, kind, reason=reason, hours=hours
        )
    console.print(f"{user}: {kind} (restriction #{restriction.id})", highlight=False)


@app.command("lift")
def lift(
    ctx: typer.Context,
    restriction_id: int = typer.Argument(..., help="Restriction number (see access restrictions)."),
    by: str | None = typer.Option(
        None, "--by", help="Admin or security user making the change (default: the operator)."
    ),
) -> None:
    """Lift a restriction."""
    with app_for(ctx) as crm_app:
        crm_app.crm.lift_restriction(context(crm_app, by), restriction_id)
    console.print(f"lifted restriction #{restriction_id}")


@app.command("restrictions")
def restrictions(
    ctx: typer.Context,
    user: str | None = typer.Argument(None, help="Only this user's."),
    as_user: str | None = typer.Option(
        None, "--as", help="Ask as this user (needs restrict on user); default: the operator."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """List restrictions (active and past)."""
    with app_for(ctx) as crm_app:
        items = crm_app.crm.list_restrictions(context(crm_app, as_user), user)
    data = [r.to_json() for r in items]
    if as_json:
        print_json(data)
        return
    for d in data:
        state = "lifted" if d["lifted_at"] else "active"
        console.print(
            f"#{d['id']} {d['username']} {d['kind']} ({state}) by {d['created_by']}: {d['reason']}",
            highlight=False,
        )
