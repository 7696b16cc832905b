"""Helpers of the backup tests: a small CRM database with every kind of row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from crm_models import Base, Company, Contact, Team, User


def fill_crm(url: str, contacts: int = 50) -> None:
    """Create the CRM tables and a few rows of each kind (including the teams/users cycle)."""
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        team = Team(name="North")
        s.add(team)
        s.flush()
        boss = User(
            username="boss",
            display_name="Boss",
            email="b@example.com",
            team_id=team.id,
            roles=["owner"],
        )
        s.add(boss)
        s.flush()
        team.head_id = boss.id
        co = Company(name="Acme", city="Lyon", country="FR", owner_id=boss.id)
        s.add(co)
        s.flush()
        base = datetime(2024, 1, 1, tzinfo=UTC)
        for i in range(contacts):
            s.add(
                Contact(
                    first_name=f"Ann{i}",
                    last_name="Lee",
                    email=f"a{i}@example.com",
                    company_id=co.id,
                    owner_id=boss.id,
                    notes="n" * (i % 7),
                    created_at=base + timedelta(minutes=i),
                )
            )
        s.commit()
    engine.dispose()
