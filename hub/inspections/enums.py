"""Vocabulary of patrol logs: what is checked, what the inspector says, where a round stands."""

from __future__ import annotations

from enum import StrEnum


class Item(StrEnum):
    """What an inspector checks at a checkpoint (CONTRACT.md §4)."""

    paper = "paper"
    soap = "soap"
    towel = "towel"
    light = "light"
    leak = "leak"
    gate = "gate"
    other = "other"


class State(StrEnum):
    """What the inspector wrote down for an item."""

    ok = "ok"
    low = "low"
    empty = "empty"
    fault = "fault"


class Verdict(StrEnum):
    """What the sensors say about a claim."""

    consistent = "consistent"
    contradicted = "contradicted"
    unverifiable = "unverifiable"


class RoundStatus(StrEnum):
    """Where one round of a route stands."""

    due = "due"
    done = "done"
    missed = "missed"


class RoundStep(StrEnum):
    """The one step of a round with a deadline: walking every checkpoint."""

    walk = "walk"


SUPPLIES = frozenset({Item.paper, Item.soap, Item.towel})
"""Items a restroom dispenser measures."""

STATES_OF: dict[Item, frozenset[State]] = {
    **{item: frozenset(State) for item in (Item.paper, Item.soap, Item.towel, Item.other)},
    Item.light: frozenset({State.ok, State.fault}),
    Item.leak: frozenset({State.ok, State.fault}),
    Item.gate: frozenset({State.ok, State.fault}),
}
"""The states that make sense for each item: a lamp or a pipe is fine or faulty, not low."""
