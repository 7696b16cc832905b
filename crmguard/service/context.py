"""The request context: who asks, through which channel, from where.

Built once per request by the caller (CLI, HTTP API, web console, simulation) and
handed to every guarded call, so the ledger can say who did what and how.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from access import Principal

Channel = Literal["api", "web", "cli", "system"]


def new_request_id() -> str:
    """A fresh random request id (hex)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class RequestContext:
    """Who is asking, and how; immutable for the life of one request."""

    principal: Principal
    channel: Channel = "cli"
    ip: str | None = None
    request_id: str = field(default_factory=new_request_id)
    #: The local operator of the home (the CLI run by whoever holds the home's keys) may
    #: read and verify the ledger without a CRM role; every such read is still recorded.
    operator: bool = False
    #: Who ran the command on this machine when the home's operator acts as a CRM user
    #: (``crmguard ... --as USER``): recorded in every event's details, since whoever
    #: holds the home can claim any name.
    os_user: str | None = None


def operator_context(os_user: str, channel: Channel = "cli") -> RequestContext:
    """A context for the home's operator, recorded as ``operator:<os user>``."""
    principal = Principal(user_id=0, username=f"operator:{os_user}", team_id=None, roles=())
    return RequestContext(principal=principal, channel=channel, operator=True)
