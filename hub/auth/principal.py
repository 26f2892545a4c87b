"""Who is calling: a user's name, role and sites, as every layer of the hub sees them."""

from __future__ import annotations

from dataclasses import dataclass

from hub.auth.enums import Role


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who, in which role, over which sites."""

    user_id: int
    name: str
    role: Role
    site_ids: frozenset[str]
    department_head: bool = False
    """Heads the department of their role (dispatches its orders)."""

    def sees(self, site_id: str) -> bool:
        """Whether `site_id` is in scope."""
        return site_id in self.site_ids
