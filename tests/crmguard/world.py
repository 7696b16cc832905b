"""A guarded CRM on a real database, seeded small: the world the shell's tests act in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import policies
from access import AccessControl
from audit import Ledger, create_key_file, load_key_file
from crmguard.db import make_engine
from crmguard.schema import upgrade
from crmguard.seed.dataset import DatasetSummary, seed_dataset
from crmguard.service import GuardedCRM, RequestContext


@dataclass
class World:
    crm: GuardedCRM
    data: DatasetSummary
    url: str

    def ctx(self, username: str, channel: str = "api") -> RequestContext:
        return RequestContext(principal=self.crm.principal(username), channel=channel)  # type: ignore[arg-type]


def build_world(url: str, key_dir: Path, contacts: int = 600) -> World:
    engine = make_engine(url, bulk=True)
    upgrade(engine)
    data = seed_dataset(engine, seed=7, users=50, contacts=contacts)
    key = key_dir / "ledger.key"
    create_key_file(key)
    crm = GuardedCRM(
        engine, AccessControl.from_dir(policies.DEFAULT_DIR), Ledger(engine, load_key_file(key))
    )
    return World(crm, data, url)
