"""The policy in force, as an admin operation: which version, from where, which roles.

Restrictions, checks and explanations live in :mod:`crmguard.service.admin`.
"""

from __future__ import annotations

from typing import Any

from crmguard.service.context import RequestContext
from crmguard.service.core import GuardedBase


class PolicyStatusMixin(GuardedBase):
    """policy_status."""

    def policy_status(self, ctx: RequestContext) -> dict[str, Any]:
        """The policy in force: its version and roles (needs ``view`` on ``user``)."""
        with self.engine.connect() as conn:
            self.require(conn, ctx, "view", "user")
        self.record(self.event(ctx, "policy.status", "policy"))
        return {
            "version": self.access.version,
            "policy_dir": str(self.access.policy_dir),
            "roles": sorted(self.access.roles),
        }
