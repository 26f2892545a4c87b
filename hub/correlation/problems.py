"""Problem words: what a complaint says is wrong, as the alarm types that stand for it.

The groups are data (`problems.toml`): 不亮 and "lights out" are a lamp failure, 没纸 a
restroom out of supplies, 砸车 a gate that came down on a car. A group's words also name its
device kind, so a complaint the classifier gave no kind can still meet its alarm.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from hub.complaints.text import fold
from hub.registry.enums import DeviceKind


@dataclass(frozen=True)
class Problem:
    """One group of problem words."""

    name: str
    kind: DeviceKind
    alarms: frozenset[str]
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Said:
    """The problems a text names: the alarm types, the kinds they imply, the words found."""

    alarms: frozenset[str]
    kinds: frozenset[str]
    words: Mapping[str, tuple[str, ...]]
    """Alarm type → the words that named it."""

    def words_for(self, alarms: frozenset[str]) -> list[str]:
        """The words that named any of `alarms`, each once, in a stable order."""
        seen: dict[str, None] = {}
        for alarm in sorted(alarms):
            for word in self.words.get(alarm, ()):
                seen.setdefault(word)
        return list(seen)


def _load() -> tuple[Problem, ...]:
    source = resources.files("hub.correlation").joinpath("problems.toml")
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    problems = []
    for name, table in data.items():
        terms = tuple(table["terms"])
        for term in terms:
            if term != fold(term).text:
                raise ValueError(f"problems.toml [{name}] {term!r}: write terms folded")
        problems.append(Problem(name, DeviceKind(table["kind"]), frozenset(table["alarms"]), terms))
    return tuple(problems)


PROBLEMS = _load()
ALARM_KIND: Mapping[str, str] = MappingProxyType(
    {alarm: str(p.kind) for p in PROBLEMS for alarm in p.alarms}
)
"""The device kind of each alarm type a problem names."""

_EN: dict[str, re.Pattern[str]] = {
    term: re.compile(rf"(?<![a-z]){re.escape(term)}(?![a-z])")
    for p in PROBLEMS
    for term in p.terms
    if term.isascii()
}


def _found(text: str, term: str) -> bool:
    if term.isascii():
        return _EN[term].search(text) is not None
    return term in text


def said(text: str) -> Said:
    """The problems `text` names."""
    folded = fold(text, keep="words").text
    words: dict[str, tuple[str, ...]] = {}
    kinds: set[str] = set()
    for problem in PROBLEMS:
        hits = tuple(t for t in problem.terms if _found(folded, t))
        if not hits:
            continue
        hits = tuple(t for t in hits if not any(t != o and t in o for o in hits))
        kinds.add(str(problem.kind))
        for alarm in problem.alarms:
            words[alarm] = words.get(alarm, ()) + hits
    return Said(frozenset(words), frozenset(kinds), MappingProxyType(words))
