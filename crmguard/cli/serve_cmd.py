"""``crmguard serve``: the HTTP API (FastAPI is imported only when this runs)."""

from __future__ import annotations

import typer

from crmguard.cli.common import settings_of


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root command."""

    @app.command("serve")
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    ) -> None:
        """Serve the HTTP API (and run the daemon's work) until SIGTERM or Ctrl-C."""
        from crmguard.api.serve import run

        run(settings_of(ctx), host=host, port=port)
