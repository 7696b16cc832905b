"""A real HTTP server for the API tests: uvicorn on a loopback port in a thread, over
the seeded world's database, with a real httpx client per user token."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from audit import load_key_file
from crmguard.api import create_app
from crmguard.api.metrics import MeteredLedger, Metrics
from crmguard.app import App
from crmguard.service import GuardedCRM, operator_context
from crmguard.service.auth import Authenticator
from crmguard.settings import Settings
from crmguard.settings_api import ApiSettings
from tests.crmguard.world import World


@dataclass
class Server:
    """A running API: its base URL, the composed app, and one token per user asked for."""

    base_url: str
    app: App
    world: World
    auth: Authenticator
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def crm(self) -> GuardedCRM:
        return self.app.crm

    def token(self, username: str) -> str:
        if username not in self.tokens:
            created = self.auth.create_token(operator_context("tests"), username, "tests")
            self.tokens[username] = created.token
        return self.tokens[username]

    def client(self, username: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(username)}"} if username else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30, **kwargs)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(world: World, home: Path, api: ApiSettings | None = None) -> Iterator[Server]:
    """Serve ``world`` over HTTP until the block ends."""
    key_file = home.parent / "keys" / "ledger.key"
    settings = replace(
        Settings.load(home, env={}),
        database_url=world.url,
        api=api or ApiSettings(),
        mac_key_file=key_file,
    )
    key = load_key_file(key_file)
    metrics = Metrics()
    ledger = MeteredLedger(world.crm.engine, key)
    ledger.metrics = metrics
    crm = GuardedCRM(world.crm.engine, world.crm.access, ledger)
    app = App(settings, world.crm.engine, world.crm.access, ledger, crm)
    auth = Authenticator(crm, settings.api)
    asgi = create_app(app, metrics=metrics, authenticator=auth)
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        asgi, lifespan="off", log_level="warning", access_log=False, proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", app, world, auth)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
