"""The outermost layer of every HTTP exchange, as plain ASGI (no per-request task or
buffering): a request id, the client's address, the body-size limit, the headers every
response carries, and the latency histogram.

* ``X-Request-ID``: a fresh random id per request (a client's own id is not trusted,
  because it goes into the ledger); it is the ledger's ``request_id``.
* The client's address is the socket's peer, or the last address in
  ``X-Forwarded-For`` not belonging to a configured trusted proxy, and only when the
  peer itself is a trusted proxy: a client cannot write its own address into the ledger.
* Bodies over ``max_body_bytes`` are refused with 413 before the route sees them, by
  ``Content-Length`` or while streaming.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from crmguard.api.metrics import Metrics
from crmguard.service import new_request_id

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths whose responses carry CRM or ledger data never go to a cache.
_DATA_PREFIX = "/api/"


class BodyTooLarge(Exception):
    """Raised while reading a body that grows past the limit."""


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[Any]
) -> str | None:
    """The client's address, believing ``X-Forwarded-For`` only from trusted proxies."""

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    if peer is None or not trusted or not is_trusted(peer) or not forwarded_for:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


class FrontMiddleware:
    """Request id, client address, body limit, common headers and latency metrics."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        trusted_proxies: Sequence[str],
        metrics: Metrics,
    ) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = new_request_id()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        peer = str(client[0]) if client else None
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_ip"] = client_address(peer, headers.get("x-forwarded-for"), self.trusted)
        # HTTPS as the browser sees it: directly, or as a trusted proxy reports it.
        state["https"] = scope.get("scheme") == "https" or (
            self._trusted(peer) and headers.get("x-forwarded-proto", "").lower() == "https"
        )
        path: str = scope.get("path", "")
        data = path.startswith(_DATA_PREFIX)
        status_holder = {"status": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                extra = [
                    (b"x-request-id", request_id.encode()),
                    (b"x-content-type-options", b"nosniff"),
                ]
                if data:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._too_large(send_with_headers, request_id)
            self.metrics.observe_request(scope, 413, time.perf_counter() - started)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            await self._too_large(send_with_headers, request_id)
            status_holder["status"] = 413
        finally:
            self.metrics.observe_request(
                scope, status_holder["status"], time.perf_counter() - started
            )

    def _trusted(self, peer: str | None) -> bool:
        if peer is None or not self.trusted:
            return False
        try:
            ip = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    async def _too_large(self, send: Send, request_id: str) -> None:
        body = json.dumps(
            {
                "error": {
                    "type": "BodyTooLarge",
                    "message": f"request body over the {self.max_body}-byte limit",
                    "request_id": request_id,
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
