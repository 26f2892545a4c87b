"""Vocabulary of access: the roles of CONTRACT.md."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user does in the hub (CONTRACT.md roles)."""

    front_desk = "front_desk"
    engineer = "engineer"
    cleaner = "cleaner"
    security = "security"
    manager = "manager"
    admin = "admin"
