"""alerts/channels/webhook.py against a real local HTTP server."""

from __future__ import annotations

import pytest

from alerts.channels import ChannelError, WebhookChannel
from tests.alerts.delivery_helpers import free_port, http_sink

MESSAGE = {
    "kind": "raised", "alert_id": 3, "user": "anna", "rule": "burst", "severity": "critical",
    "score": 12.0, "summary": "anna read 400 contacts in 1 minute", "status": "open",
    "first_ts": "2026-11-30T10:00:00+00:00", "last_ts": "2026-11-30T10:01:00+00:00",
    "evidence": {"count": 400},
}  # fmt: skip


def test_json_posts_the_whole_message() -> None:
    with http_sink() as sink:
        WebhookChannel("hook", sink.url, headers={"X-Team": "sec"}).send(MESSAGE)
    assert sink.bodies == [MESSAGE]
    assert sink.headers[0]["Content-Type"].startswith("application/json")
    assert sink.headers[0]["X-Team"] == "sec"


def test_chat_format_posts_text_only() -> None:
    with http_sink() as sink:
        WebhookChannel("chat", sink.url, fmt="chat").send(MESSAGE)
    [body] = sink.bodies
    assert set(body) == {"text"}
    assert body["text"].startswith("CRITICAL burst: anna read 400 contacts in 1 minute")
    assert "crmguard alerts show 3" in body["text"]


def test_an_error_status_is_a_channel_error_that_hides_the_path() -> None:
    with http_sink(status=500) as sink, pytest.raises(ChannelError) as info:
        WebhookChannel("hook", sink.url).send(MESSAGE)
    assert str(info.value) == f"webhook http://127.0.0.1:{sink.port} answered HTTP 500"
    assert "secret-path" not in str(info.value)


def test_nobody_listening_is_a_channel_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(ChannelError, match=r"unreachable: .*[Rr]efused"):
        WebhookChannel("hook", url, timeout=2).send(MESSAGE)
