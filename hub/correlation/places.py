"""Places in the location tree: how a complaint's place relates to a candidate's, and the
paths searched around a place.

Paths are the registry's codes joined by '/': `3` a building, `3/12` its floor 12,
`3/12/1201` a unit, `3/12/pipe-well` or `clubhouse/2/men-restroom` an area, `north-gate`
an entrance. Water runs down: for leaks the floors above a complaint count too; for gates
what counts is the entrance or lane.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.correlation.enums import Relation
from hub.correlation.weights import FLOORS_ABOVE

Codes = tuple[str, ...]

_LABELS: dict[Relation, tuple[str, str]] = {
    Relation.same_place: ("同一位置", "same place"),
    Relation.same_entrance: ("同一出入口", "same entrance or lane"),
    Relation.same_floor: ("同一楼层", "same floor"),
    Relation.next_door: ("同层另一处", "another room on the same floor"),
    Relation.floor_above: ("楼上一层", "one floor above (water runs down)"),
    Relation.floors_above: ("楼上{n}层", "{n} floors above (water runs down)"),
    Relation.in_building: ("同一楼栋", "in the building named"),
    Relation.site: ("同一小区", "same site, place not known"),
}


def codes(path: str | None) -> Codes | None:
    """The codes of a path (None stays None)."""
    if not path:
        return None
    return tuple(c for c in path.split("/") if c)


def _floor(path: Codes) -> int | None:
    """The floor number of a building path (`3/12/...` → 12), None if not numeric."""
    if len(path) < 2 or not path[0].isdigit() or not path[1].isdigit():
        return None
    return int(path[1])


@dataclass(frozen=True)
class Related:
    """A place relation, with the floors between them (for leaks above) and the reason."""

    relation: Relation
    floors: int = 0

    def reason(self, where: Codes | None, there: Codes) -> str:
        """The desk's reason: zh and en, with the paths."""
        zh, en = _LABELS[self.relation]
        zh, en = zh.format(n=self.floors), en.format(n=self.floors)
        target = "/".join(there)
        if not target:
            return f"{zh} {en}"
        if where is None or self.relation is Relation.site:
            return f"{zh} {target} {en}"
        if tuple(where) == tuple(there):
            return f"{zh} {target} {en}"
        return f"{zh} {target} ↔ {'/'.join(where)} {en}"


def relate(
    where: Codes | None, there: Codes, *, leak: bool, gate: bool, room: bool = False
) -> Related | None:
    """How `there` (a candidate's place) relates to `where` (the complaint's), or None.

    None: another building or area, which never explains a complaint. `room`: the kind's
    devices serve one room (a restroom's dispensers), so another room on the same floor is
    not the same place.
    """
    if where is None:
        return Related(Relation.site)
    shared = 0
    for a, b in zip(where, there, strict=False):
        if a != b:
            break
        shared += 1
    if shared == 0:
        return None
    if shared == len(where) == len(there):
        return Related(Relation.same_entrance if gate else Relation.same_place)
    if gate:
        return Related(Relation.same_entrance)
    if shared >= 2:
        contained = shared in (len(where), len(there))
        return Related(Relation.same_floor if contained or not room else Relation.next_door)
    if shared == len(where) or shared == len(there):
        return Related(Relation.in_building)
    return _other_floor(where, there, leak=leak)


def _other_floor(where: Codes, there: Codes, *, leak: bool) -> Related | None:
    """Two floors of one building: only the floors above a leak complaint count.

    A lamp out on floor 12 does not explain a dark corridor on floor 5.
    """
    mine, theirs = _floor(where), _floor(there)
    if leak and mine is not None and theirs is not None and 0 < theirs - mine <= FLOORS_ABOVE:
        gap = theirs - mine
        return Related(Relation.floor_above if gap == 1 else Relation.floors_above, gap)
    return None


def ancestors(path: Codes) -> list[str]:
    """The paths from the building down to `path` itself (`3`, `3/12`, `3/12/1201`)."""
    return ["/".join(path[: n + 1]) for n in range(len(path))]


def floors_above(path: Codes) -> list[str]:
    """The floor paths above a building path, as far as a leak is looked for."""
    floor = _floor(path)
    if floor is None:
        return []
    return [f"{path[0]}/{floor + n}" for n in range(1, FLOORS_ABOVE + 1)]


def subtree_bounds(path: str) -> tuple[str, str]:
    """The half-open range of paths strictly below `path` ('/' + 1 is '0')."""
    return f"{path}/", f"{path}0"


def inside(path: str, prefix: str) -> bool:
    """Whether `path` is `prefix` or lies below it, in whole codes."""
    return path == prefix or path.startswith(prefix + "/")
