"""The allowed moves of a case as data: from, to, who may, what it requires.

A kind of case lists its moves once, in a `MoveTable`. Asking the table for a move checks
the three things every move needs, in this order: the state machine has the edge (409
otherwise, with the moves that are allowed), the caller's role may take it (403), and each
of its requirements holds (a guard raises the error that says what is missing). What the
move then does to the case (its deadlines, its fields) stays with the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, cast

from hub.auth.enums import Role
from hub.errors import Conflict, Forbidden


class Identified(Protocol):
    """A case as the table names it in errors."""

    id: int


C = TypeVar("C")
R = TypeVar("R")

Guard = Callable[[C, R], None]
"""A requirement of a move: raises (InvalidInput, Conflict) with what is missing."""


@dataclass(frozen=True)
class Move(Generic[C, R]):
    """One edge of a case's state machine."""

    source: str
    target: str
    roles: frozenset[Role] | None = None
    """Who may take it, besides admins; None: whoever may move the case at all."""
    requires: tuple[Guard[C, R], ...] = ()
    action: str = "moved"
    """The history action the move records (`reopened`, `owner_accepted`, ...)."""


class MoveTable(Generic[C, R]):
    """Every allowed move of one kind of case; anything else is refused."""

    def __init__(
        self,
        label: str,
        states: Iterable[str],
        moves: Iterable[Move[C, R]],
        *,
        roles: frozenset[Role] | None = None,
    ) -> None:
        self.label = label
        self.roles = roles
        self._moves: dict[tuple[str, str], Move[C, R]] = {}
        self._targets: dict[str, list[str]] = {str(s): [] for s in states}
        for move in moves:
            key = (str(move.source), str(move.target))
            if key in self._moves:
                raise ValueError(f"{label}: move {key} listed twice")
            if key[0] not in self._targets or key[1] not in self._targets:
                raise ValueError(f"{label}: move {key} names an unknown state")
            self._moves[key] = move
            self._targets[key[0]].append(key[1])
        for targets in self._targets.values():
            targets.sort()

    def targets(self, source: str) -> list[str]:
        """The states a case in `source` may move to, sorted."""
        return list(self._targets[str(source)])

    @property
    def terminal(self) -> frozenset[str]:
        """States with no way out."""
        return frozenset(s for s, targets in self._targets.items() if not targets)

    def into(self, target: str) -> list[Move[C, R]]:
        """Every move that ends in `target`."""
        return [m for (_s, t), m in self._moves.items() if t == str(target)]

    def edge(self, case: C, source: str, target: str) -> Move[C, R]:
        """The move from `source` to `target`, or Conflict naming the allowed ones."""
        move = self._moves.get((str(source), str(target)))
        if move is None:
            allowed = self.targets(source)
            raise Conflict(
                f"{self.label} {cast(Identified, case).id} cannot move from {source} to {target}; "
                f"allowed: {', '.join(allowed) or 'none (terminal)'}",
                details={"from": source, "to": target, "allowed": allowed},
            )
        return move

    def may(self, move: Move[C, R], role: Role | None) -> bool:
        """Whether `role` may take `move`; None is the hub itself (rules, jobs)."""
        roles = move.roles if move.roles is not None else self.roles
        return role is None or roles is None or role in roles or role == Role.admin

    def check(
        self, case: C, request: R, *, source: str, target: str, role: Role | None
    ) -> Move[C, R]:
        """The move, once the state machine, the role and every requirement allow it."""
        move = self.edge(case, source, target)
        if not self.may(move, role):
            raise Forbidden(f"role {role} may not move a {self.label} to {target}")
        for guard in move.requires:
            guard(case, request)
        return move
