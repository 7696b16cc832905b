"""Small helpers shared by the access tests (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from access import Principal


def write_policy(directory: Path, text: str) -> Path:
    """Replace policy.csv in ``directory`` (which must hold a model.conf)."""
    path = directory / "policy.csv"
    path.write_text(text, encoding="utf-8")
    return path


def principal(
    *roles: str,
    user_id: int = 1,
    team_id: int | None = 1,
    username: str = "u1",
    active: bool = True,
) -> Principal:
    return Principal(
        user_id=user_id, username=username, team_id=team_id, roles=roles, active=active
    )
