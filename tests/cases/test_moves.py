"""The move table: the edge, then the role, then each requirement, in that order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.auth.enums import Role
from hub.cases.moves import Move, MoveTable
from hub.errors import Conflict, Forbidden, InvalidInput


@dataclass
class Ticket:
    id: int
    status: str
    assignee: str | None = None


def _needs_assignee(ticket: Ticket, _note: str) -> None:
    if not ticket.assignee:
        raise InvalidInput("needs an assignee")


def _needs_note(_ticket: Ticket, note: str) -> None:
    if not note:
        raise InvalidInput("needs a note")


STATES = ("new", "doing", "done", "dropped")
DESK = frozenset({Role.front_desk, Role.manager})
TABLE: MoveTable[Ticket, str] = MoveTable(
    "ticket",
    STATES,
    [
        Move("new", "doing", requires=(_needs_assignee, _needs_note)),
        Move("new", "dropped", roles=DESK),
        Move("doing", "done", action="finished"),
    ],
)


def test_targets_are_sorted_and_terminal_states_have_none() -> None:
    assert TABLE.targets("new") == ["doing", "dropped"]
    assert TABLE.terminal == frozenset({"done", "dropped"})
    assert [m.source for m in TABLE.into("doing")] == ["new"]


def test_a_missing_edge_is_a_conflict_naming_the_allowed_moves() -> None:
    with pytest.raises(Conflict) as err:
        TABLE.check(Ticket(7, "doing"), "", source="doing", target="new", role=Role.manager)
    assert err.value.details == {"from": "doing", "to": "new", "allowed": ["done"]}
    assert "ticket 7 cannot move from doing to new" in err.value.message


def test_the_role_is_checked_before_the_requirements() -> None:
    ticket = Ticket(1, "new")
    with pytest.raises(Forbidden):
        TABLE.check(ticket, "", source="new", target="dropped", role=Role.engineer)
    TABLE.check(ticket, "", source="new", target="dropped", role=Role.front_desk)
    TABLE.check(ticket, "", source="new", target="dropped", role=Role.admin)
    TABLE.check(ticket, "", source="new", target="dropped", role=None)  # the hub itself


def test_requirements_run_in_the_order_listed() -> None:
    ticket = Ticket(1, "new")
    with pytest.raises(InvalidInput, match="assignee"):
        TABLE.check(ticket, "", source="new", target="doing", role=Role.engineer)
    ticket.assignee = "eng-wang"
    with pytest.raises(InvalidInput, match="note"):
        TABLE.check(ticket, "", source="new", target="doing", role=Role.engineer)
    move = TABLE.check(ticket, "started", source="new", target="doing", role=Role.engineer)
    assert (
        move.action,
        TABLE.check(ticket, "", source="doing", target="done", role=None).action,
    ) == (
        "moved",
        "finished",
    )


@pytest.mark.parametrize(
    "moves",
    [
        [Move("new", "doing"), Move("new", "doing")],
        [Move("new", "nowhere")],
    ],
    ids=["twice", "unknown state"],
)
def test_a_table_with_a_mistake_is_refused_when_built(moves: list[Move[Ticket, str]]) -> None:
    with pytest.raises(ValueError, match="ticket"):
        MoveTable("ticket", STATES, moves)
