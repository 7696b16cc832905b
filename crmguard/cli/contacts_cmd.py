"""``crmguard contacts``: work with contacts as a user, guarded and audited like any path."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from crmguard.cli.common import MAX_RECORD_ID, console, fail, print_json
from crmguard.cli.session import app_for, user_context
from crmguard.outfiles import check_target, output_file

app = typer.Typer(help="Contacts, as a given user (channel cli).", no_args_is_help=True)

AS_USER = typer.Option(..., "--as", help="Act as this user.")
FILTER = typer.Option(
    [],
    "--filter",
    metavar="FIELD=VALUE",
    help="Only contacts whose FIELD equals VALUE (repeatable; e.g. city=Lyon, owner_id=12).",
)
SEARCH = typer.Option(
    None,
    "--search",
    metavar="TEXT",
    help="Only contacts whose name, email, phone or city contains TEXT.",
)
CONTACT_ID = typer.Argument(..., min=1, max=MAX_RECORD_ID, help="The contact's id.")
COLUMNS = ("id", "first_name", "last_name", "email", "phone", "city", "country", "owner_id")


@app.command("list")
def list_contacts(
    ctx: typer.Context,
    as_user: str = AS_USER,
    page: int = typer.Option(1, "--page", min=1),
    page_size: int = typer.Option(20, "--page-size", min=1, help="Rows per page (at most 500)."),
    filters: list[str] = FILTER,
    search: str | None = SEARCH,
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """A page of the contacts the user may see."""
    from crmguard.service import parse_filters

    with app_for(ctx) as crm_app:
        result = crm_app.crm.list(
            user_context(crm_app, as_user),
            "contact",
            filters=parse_filters("contact", filters),
            text=search,
            page=page,
            page_size=page_size,
        )
    if as_json:
        print_json({"total": result.total, "page": result.page, "items": result.items})
        return
    table = Table(*COLUMNS, title=f"contacts visible to {as_user}: {result.total}")
    for row in result.items:
        table.add_row(*(escape(str(row[c])) for c in COLUMNS))
    console.print(table)


@app.command("view")
def view_contact(
    ctx: typer.Context,
    contact_id: int = CONTACT_ID,
    as_user: str = AS_USER,
    include: list[str] = typer.Option([], "--include", help="company, deals, activities"),
) -> None:
    """One contact (JSON), with related records the user may see."""
    with app_for(ctx) as crm_app:
        row = crm_app.crm.view(user_context(crm_app, as_user), "contact", contact_id, include)
    print_json(row)


@app.command("search")
def search_contacts(
    ctx: typer.Context,
    text: str = typer.Argument(...),
    as_user: str = AS_USER,
    limit: int = typer.Option(20, "--limit", min=1, help="Most rows to show (at most 500)."),
) -> None:
    """Contacts whose name, email, phone or city contains TEXT (JSON lines)."""
    with app_for(ctx) as crm_app:
        rows = crm_app.crm.search(user_context(crm_app, as_user), "contact", text, limit=limit)
    for row in rows:
        print_json(row)


@app.command("export")
def export_contacts(
    ctx: typer.Context,
    as_user: str = AS_USER,
    fmt: str = typer.Option("csv", "--format", help="csv or jsonl"),
    out: Path | None = typer.Option(None, "--out", help="File to write (default: stdout)."),
    filters: list[str] = FILTER,
    search: str | None = SEARCH,
    force: bool = typer.Option(False, "--force", help="Replace an existing --out file."),
) -> None:
    """Export every contact the user may see, within the role's export cap."""
    from crmguard.service import parse_filters

    if fmt not in ("csv", "jsonl"):
        raise fail(f"unknown format {fmt!r} (use csv or jsonl)")
    where = parse_filters("contact", filters)
    if out is not None:
        check_target(out, force)
    with app_for(ctx) as crm_app:
        rctx = user_context(crm_app, as_user)
        if out is None:
            result = crm_app.crm.export(
                rctx, "contact", sys.stdout, fmt=fmt, filters=where, text=search
            )
        else:
            with output_file(out, force=force, newline="") as fh:
                result = crm_app.crm.export(
                    rctx, "contact", fh, fmt=fmt, filters=where, text=search
                )
    if out is not None:
        masked = f" (masked: {', '.join(result.masked_fields)})" if result.masked_fields else ""
        console.print(
            f"exported {result.count} contacts to {out}{masked}; ledger entry #{result.ledger_seq}",
            highlight=False,
        )


@app.command("print")
def print_contact(
    ctx: typer.Context,
    contact_id: int = CONTACT_ID,
    as_user: str = AS_USER,
) -> None:
    """A printable contact card (document generation is audited as `print`)."""
    with app_for(ctx) as crm_app:
        text = crm_app.crm.print_record(user_context(crm_app, as_user), "contact", contact_id)
    sys.stdout.write(text)


@app.command("history")
def contact_history(
    ctx: typer.Context,
    contact_id: int = CONTACT_ID,
    as_user: str = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Who changed the contact, when, from what to what (masked fields stay masked)."""
    with app_for(ctx) as crm_app:
        history = crm_app.crm.history(user_context(crm_app, as_user), "contact", contact_id)
    if as_json:
        print_json(history.to_json())
        return
    state = "" if history.exists else " (deleted)"
    table = Table("#", "when (UTC)", "who", "action", "what", title=f"contact {contact_id}{state}")
    for e in history.entries:
        if e.changes:
            what = "\n".join(f"{k}: {v['old']} -> {v['new']}" for k, v in e.changes.items())
        elif e.values:
            what = "\n".join(f"{k}: {v}" for k, v in e.values.items() if k != "id")
        else:
            what = ", ".join(e.fields)
        table.add_row(
            str(e.seq), f"{e.ts:%Y-%m-%d %H:%M:%S}", escape(e.actor), e.action, escape(what)
        )
    console.print(table)
    if not history.entries:
        console.print("no recorded changes", highlight=False)
