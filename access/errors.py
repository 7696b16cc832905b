"""Errors raised by the access room.

Every error's ``str()`` is one line a person can act on (what is wrong, where, and what
would be accepted), and carries an ``exit_code`` so the CLI can exit with it unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable


def _known(names: Iterable[str]) -> str:
    """The accepted names for a message; an empty list says so rather than ``(known: )``."""
    return ", ".join(sorted(names)) or "none: the policy defines none"


class AccessError(Exception):
    """Base of every access error; ``str()`` is a one-line message for a person."""

    exit_code: int = 2
    #: The HTTP status the API answers with (400: the request names something unknown).
    http_status: int = 400


class UnknownAction(AccessError):
    """A request names an action the policy vocabulary does not have."""

    def __init__(self, action: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown action {action!r} (known: {_known(known)})")
        self.action = action


class UnknownResource(AccessError):
    """A request names a resource the policy vocabulary does not have."""

    def __init__(self, resource: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown resource {resource!r} (known: {_known(known)})")
        self.resource = resource


class UnknownRole(AccessError):
    """A principal holds a role that no policy line mentions.

    Raised rather than silently ignored: a role stored in the database but missing
    from the policy is a configuration mistake an admin must see.
    """

    http_status = 503

    def __init__(self, role: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown role {role!r} (known: {_known(known)})")
        self.role = role


class PolicyError(AccessError):
    """A policy file is malformed; the message names the file and, if known, the line."""

    http_status = 503

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        where = f"{path} line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.detail = message


class RestrictionError(AccessError):
    """A restriction cannot be added or lifted as asked."""


class UnknownRestrictionKind(RestrictionError):
    """The restriction kind is not one access knows how to enforce."""

    def __init__(self, kind: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown restriction kind {kind!r} (known: {_known(known)})")
        self.kind = kind


class RestrictionNotFound(RestrictionError):
    """No restriction with that id exists."""

    http_status = 404

    def __init__(self, restriction_id: int) -> None:
        super().__init__(f"restriction {restriction_id} not found (see the list of restrictions)")
        self.restriction_id = restriction_id


class UnsupportedScope(AccessError):
    """A row scope was asked for a resource whose rows access cannot locate by itself."""

    http_status = 500
