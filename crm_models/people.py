"""Users and teams: the people who work in the CRM."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_models.base import Base, Timestamped


class Team(Base):
    """A team of users; its head is a user (usually a sales manager)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    head_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, ondelete="SET NULL"), nullable=True
    )

    members: Mapped[list[User]] = relationship(back_populates="team", foreign_keys="User.team_id")


class User(Timestamped, Base):
    """An employee with a CRM login.

    ``roles`` is a list of role names; what the roles may do is the access room's
    business, the core only stores them.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True, index=True
    )
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])
