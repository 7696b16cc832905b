"""The webhook channel: the message as a JSON POST, or a chat-compatible ``{"text": ...}``.

``format = "json"`` posts the whole message (for a ticketing system or a SOAR);
``format = "chat"`` posts ``{"text": "..."}``, which Slack, Mattermost, Rocket.Chat and
Teams-style incoming webhooks accept. Any 2xx answer is delivery; anything else, a
refused connection or a timeout is a :class:`ChannelError` and the outbox retries.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from alerts.channels.interface import Channel, ChannelError, one_line, text_of
from alerts.model import Severity

WebhookFormat = Literal["json", "chat"]


class WebhookChannel(Channel):
    kind = "webhook"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        fmt: WebhookFormat = "json",
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        min_severity: Severity = "low",
    ) -> None:
        super().__init__(name, min_severity)
        self.url = url
        self.fmt: WebhookFormat = fmt
        self.headers = dict(headers or {})
        self.timeout = timeout

    def body(self, message: Mapping[str, Any]) -> bytes:
        data: Any = {"text": text_of(message)} if self.fmt == "chat" else dict(message)
        return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")

    def send(self, message: Mapping[str, Any]) -> None:
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked at configuration)
            self.url,
            data=self.body(message),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "crmguard-alerts",
                **self.headers,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            raise ChannelError(f"webhook {self._where()} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ChannelError(f"webhook {self._where()} unreachable: {one_line(reason)}") from None
        if not 200 <= status < 300:
            raise ChannelError(f"webhook {self._where()} answered HTTP {status}")

    def _where(self) -> str:
        """Scheme, host and port only: a webhook path often is the secret."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    def describe(self) -> str:
        return f"webhook {self._where()} ({self.fmt})"
