"""``crmguard serve``: the API on uvicorn, with the daemon's work in the same process.

uvicorn owns the signals: on SIGTERM or SIGINT it stops accepting connections, lets
requests in flight finish (up to ``GRACE_SECONDS``), and returns; then the daemon's
thread is told to stop and joined, the policy watcher is stopped and the database
connections are closed.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import structlog

from access import watch_policies
from audit import load_key_file
from crmguard import daemon
from crmguard.api.app import create_app
from crmguard.api.metrics import MeteredLedger, Metrics
from crmguard.app import App, open_app
from crmguard.service import GuardedCRM
from crmguard.settings import Settings

log = structlog.get_logger("crmguard.serve")
GRACE_SECONDS = 10


def compose(settings: Settings) -> tuple[App, Any, Metrics]:
    """Open the home and build the ASGI application with a metered ledger."""
    app = open_app(settings)
    metrics = Metrics()
    ledger = MeteredLedger(app.engine, load_key_file(settings.mac_key_file))
    ledger.metrics = metrics
    app.ledger = ledger
    app.crm = GuardedCRM(app.engine, app.access, ledger)
    return app, create_app(app, metrics=metrics), metrics


def run(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until SIGTERM / SIGINT."""
    import uvicorn

    app, asgi, _metrics = compose(settings)
    stop = threading.Event()
    watcher = watch_policies(
        app.access, on_error=lambda exc: log.error("policy_rejected", problem=str(exc))
    )
    worker = threading.Thread(
        target=daemon.serve, args=(settings, stop), name="crmguard-daemon", daemon=True
    )
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=GRACE_SECONDS,
        server_header=False,
        # The address is resolved once, from [api] trusted_proxies, by the front middleware;
        # uvicorn would otherwise believe X-Forwarded-For from any local peer.
        proxy_headers=False,
    )
    worker.start()
    if threading.current_thread() is threading.main_thread():
        # uvicorn restores these after its graceful shutdown and re-raises the signal it
        # caught; handlers that do nothing let the cleanup below run and the process
        # exit 0 instead of dying by the signal half-way through.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _signum, _frame: None)
    try:
        uvicorn.Server(config).run()
    finally:
        stop.set()
        worker.join(timeout=GRACE_SECONDS)
        watcher.stop()
        app.close()
