"""``crmguard init``, ``demo`` and ``migrate``: creating and upgrading a home."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import typer

from crmguard.cli.common import console, fail, settings_of

# The database, schema (Alembic) and seed modules are imported inside each command, so
# that ``crmguard --help`` and the other commands do not pay for them.


def init(
    ctx: typer.Context,
    demo: bool = typer.Option(False, "--demo", help="Seed a demo CRM and simulated usage."),
    seed: int = typer.Option(42, "--seed", help="Random seed for the demo data."),
    days: int = typer.Option(30, "--days", min=1, max=365, help="Days of simulated usage."),
    force: bool = typer.Option(False, "--force", help="Reset an existing home's database."),
    yes: bool = typer.Option(
        False,
        "--yes",
        help="With --force: also reset a home whose ledger holds events "
        "(the old database is kept under a timestamped name).",
    ),
    contacts: int = typer.Option(
        20_000,
        "--contacts",
        min=100,
        envvar="CRMGUARD_DEMO_CONTACTS",
        help="Demo contacts to seed.",
    ),
) -> None:
    """Create a home: settings, policies, keys, database schema (and demo data)."""
    from crmguard.home import init_home

    settings = settings_of(ctx)
    started = time.perf_counter()
    ready = init_home(settings, force=force, yes=yes)
    if ready.kept:
        console.print(f"the old database is kept as {ready.kept}", highlight=False)
    public = ready.public_key
    console.print(f"home ready at {settings.home}", highlight=False)
    if public:
        console.print(
            f"ledger checkpoint public key (give it to your auditors): {public}",
            highlight=False,
            soft_wrap=True,
        )
    if demo:
        from crmguard.seed.demo import seed_demo

        summary = seed_demo(settings, seed=seed, days=days, contacts=contacts)
        console.print(summary.describe(), highlight=False)
    console.print(f"done in {time.perf_counter() - started:.1f}s")


def migrate(ctx: typer.Context) -> None:
    """Upgrade the database schema to this version."""
    from crmguard.db import check_connection, make_engine
    from crmguard.schema import upgrade

    settings = settings_of(ctx)
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
        upgrade(engine)
    finally:
        engine.dispose()
    from crmguard.ledger_anchors import ensure_signing_key

    public = ensure_signing_key(settings)  # homes made before anchoring get theirs now
    if public:
        console.print(
            f"made the ledger checkpoint key; public key: {public}", highlight=False, soft_wrap=True
        )
    console.print("schema is up to date")


def demo(
    ctx: typer.Context,
    seed: int = typer.Option(42, "--seed"),
    days: int = typer.Option(30, "--days", min=1, max=365),
    force: bool = typer.Option(False, "--force", help="Reset --home if it exists."),
    yes: bool = typer.Option(False, "--yes", help="With --force: even if its ledger holds events."),
) -> None:
    """A fresh seeded home and a guided tour, for a first look."""
    from crmguard.home import init_home
    from crmguard.seed.demo import seed_demo
    from crmguard.seed.tour import run_tour
    from crmguard.settings import Settings

    settings = settings_of(ctx)
    if ctx.find_root().params.get("home") is None:
        settings = Settings.load(Path(tempfile.mkdtemp(prefix="crmguard-demo-")), env={})
    elif not force and settings.home.exists() and any(settings.home.iterdir()):
        raise fail(f"{settings.home} is not empty; pass --force or choose another --home")
    console.rule("[bold]crmguard demo")
    console.print(f"creating a demo home at {settings.home} ...", highlight=False)
    kept = init_home(settings, force=True, yes=yes).kept
    if kept:
        console.print(f"the old database is kept as {kept}", highlight=False)
    summary = seed_demo(settings, seed=seed, days=days)
    console.print(summary.describe(), highlight=False)
    run_tour(settings, summary)


def daemon(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Run what is due now, then exit."),
) -> None:
    """Run scheduled backups and restore drills (missed runs run at start)."""
    from crmguard.daemon import run_once, serve

    settings = settings_of(ctx)
    if once:
        for result in run_once(settings):
            state = "[green]ok[/]" if result.ok else "[red]failed[/]"
            console.print(f"{result.job}: {state} {result.detail}", highlight=False)
        return
    console.print(f"crmguard daemon watching {settings.home} (Ctrl-C to stop)", highlight=False)
    serve(settings)


def register(app: typer.Typer) -> None:
    """Add the home commands to the root app."""
    app.command("init")(init)
    app.command("migrate")(migrate)
    app.command("demo")(demo)
    app.command("daemon")(daemon)
