"""Who is asking: the values the shell hands to :class:`access.AccessControl`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """A resolved caller.

    Roles come from the database (``users.roles``); the policy may add more for a given
    username through ``g`` lines. ``team_id`` drives the ``team`` scope; a user without
    a team is treated as a team of one.
    """

    user_id: int
    username: str
    team_id: int | None
    roles: tuple[str, ...]
    active: bool = True
