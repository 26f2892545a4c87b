"""Classify a complaint the moment it is typed: responsibility, category, device kinds.

Local and explainable: weighted term lexicons in simplified Chinese and English, kept as data
in `lexicons.toml` (traditional Chinese is folded to simplified first, see `text.py`), plus
what the location says. Every decision carries its reasons, the matched terms, so the desk
can see why and override.

How a decision is made:

- every lexicon term found in the text adds its weight to its label; a term inside a
  longer matched term does not count on its own ("卫生" inside "卫生间", "fire" inside
  "fire lane");
- category: the label with the highest score, `other` when the best score is too weak;
- responsibility: the property's score (its own staff, areas and equipment, the category's
  scope, a public-area location, blame on the property) against the strongest outside party
  (developer, utility, government, neighbour); the clearly stronger side wins, a near tie
  is `undetermined`;
- device kinds: each kind whose score reaches the threshold (restroom supplies only when
  the text or location is about a public restroom, not a bathroom at home).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any, TypeVar

from hub.complaints.enums import Category, Party, Responsibility, Trigger
from hub.complaints.text import fold
from hub.registry.enums import DeviceKind

Lexicon = Mapping[str, float]
_L = TypeVar("_L", bound=StrEnum)
_K = TypeVar("_K", bound=str)


def _load_lexicons() -> dict[str, Any]:
    """The term tables of `lexicons.toml`, shipped inside the package."""
    source = resources.files("hub.complaints").joinpath("lexicons.toml")
    return tomllib.loads(source.read_text(encoding="utf-8"))


def _lexicon(table: Mapping[str, Any], where: str) -> dict[str, float]:
    """One term → weight table, checked: a typo in the data file fails at import, loudly."""
    lexicon: dict[str, float] = {}
    for term, weight in table.items():
        if not isinstance(weight, int | float) or weight < 0:
            raise ValueError(f"lexicons.toml [{where}] {term!r}: weight must be a number >= 0")
        if term != fold(term).text:  # lower case, simplified, half-width
            raise ValueError(
                f"lexicons.toml [{where}] {term!r}: write terms lower case, simplified"
            )
        lexicon[term] = float(weight)
    return lexicon


def _labelled(section: str, labels: type[_L]) -> dict[_L, Lexicon]:
    tables = _LEXICONS[section]
    unknown = set(tables) - {str(label) for label in labels}
    if unknown:
        raise ValueError(f"lexicons.toml [{section}] has unknown labels {sorted(unknown)}")
    return {label: _lexicon(tables.get(str(label), {}), f"{section}.{label}") for label in labels}


_LEXICONS = _load_lexicons()
CATEGORY_TERMS: dict[Category, Lexicon] = _labelled("category", Category)
PROPERTY_TERMS: Lexicon = _lexicon(_LEXICONS["property"], "property")
PARTY_TERMS: dict[Party, Lexicon] = _labelled("party", Party)
DEVICE_TERMS: dict[DeviceKind, Lexicon] = _labelled("device", DeviceKind)
HOME_TERMS: Lexicon = _lexicon(_LEXICONS["home"], "home")

PROPERTY_SCOPE = frozenset(
    {
        Category.facility,
        Category.sanitation,
        Category.security_order,
        Category.service_attitude,
        Category.fees,
        Category.community_activity,
        Category.emergency,
    }
)
"""Categories within the property's service scope (DOMAIN.md: what a complaint is)."""

CATEGORY_PRIORITY = (
    Category.emergency,
    Category.facility,
    Category.sanitation,
    Category.security_order,
    Category.service_attitude,
    Category.fees,
    Category.neighbour_relations,
    Category.community_activity,
)
"""Tie-breaking order: the more urgent reading wins a tie."""

DEVICE_THRESHOLD = 1.5
MIN_CATEGORY = 1.5
MIN_EVIDENCE = 1.0
SCOPE_PRIOR = 1.5
PUBLIC_AREA_PRIOR = 1.0
NEIGHBOUR_PRIOR = 1.0
MARGIN = 1.0

_RESTROOM_CODES = re.compile(r"restroom|toilet|washroom|\bwc\b|卫生间|洗手间|厕所")
_GATE_CODES = re.compile(r"gate|garage|parking|car-?park|道闸|车库|停车")


@dataclass(frozen=True)
class Match:
    """One lexicon term found in the text."""

    field: str
    label: str
    term: str
    weight: float
    start: int
    end: int


@dataclass(frozen=True)
class LocationContext:
    """What the classifier knows about where the problem is."""

    path: str
    kind: str  # building, floor, unit or area

    @property
    def public(self) -> bool:
        """Common parts the property maintains (everything but a unit)."""
        return self.kind != "unit"


@dataclass
class Classification:
    """The result: three decisions, their reasons, and the location read from the text."""

    responsibility: Responsibility
    party: Party | None
    category: Category
    device_kinds: list[DeviceKind]
    reasons: list[str]
    location_hint: str | None = None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


def _english_pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in term.split()]
    body = r"\s+".join(words)
    return re.compile(rf"(?<![a-z]){body}(?:s|es|ed|d|ing)?(?![a-z])")


def _is_english(term: str) -> bool:
    return term.isascii()


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _find(text: str, term: str) -> list[tuple[int, int]]:
    """Spans where `term` occurs in folded `text`."""
    if _is_english(term):
        pattern = _PATTERNS.get(term)
        if pattern is None:
            pattern = _PATTERNS.setdefault(term, _english_pattern(term))
        return [(m.start(), m.end()) for m in pattern.finditer(text)]
    spans = []
    start = text.find(term)
    while start != -1:
        spans.append((start, start + len(term)))
        start = text.find(term, start + 1)
    return spans


def _matches(text: str, field_name: str, lexicons: Mapping[_K, Lexicon]) -> list[Match]:
    """Every term of every label, minus terms lying inside a longer match of the same field."""
    found = [
        Match(field_name, label, term, weight, start, end)
        for label, lexicon in lexicons.items()
        for term, weight in lexicon.items()
        for start, end in _find(text, term)
    ]
    spans = {(m.start, m.end) for m in found}
    kept = [
        m
        for m in found
        if not any(s <= m.start and m.end <= e and (e - s) > (m.end - m.start) for s, e in spans)
    ]
    # A term counts once per label however often it is repeated, and one stretch of text
    # once per label ("light" and "lights" both match "lights").
    by_term: dict[tuple[str, str], Match] = {}
    by_span: dict[tuple[str, int, int], Match] = {}
    for m in sorted(kept, key=lambda m: -m.weight):
        if (m.label, m.term) in by_term or (m.label, m.start, m.end) in by_span:
            continue
        by_term[(m.label, m.term)] = by_span[(m.label, m.start, m.end)] = m
    return list(by_term.values())


def _scores(matches: list[Match]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for m in matches:
        scores[m.label] = scores.get(m.label, 0.0) + m.weight
    return scores


def _terms(matches: list[Match], label: str) -> list[str]:
    return [m.term for m in sorted(matches, key=lambda m: m.start) if m.label == label]


_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _number(token: str) -> int | None:
    """An Arabic or small Chinese numeral (1–99)."""
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if "十" in token:
        tens, _, ones = token.partition("十")
        t = _CN_DIGITS.get(tens, 1) if tens else 1
        o = _CN_DIGITS.get(ones, 0) if ones else 0
        return t * 10 + o
    if len(token) == 1 and token in _CN_DIGITS:
        return _CN_DIGITS[token]
    return None


_NUM = r"(?<![0-9])([0-9]{1,3}|[一二两三四五六七八九十]{1,3})"
_BUILDING_FLOOR = re.compile(
    r"(?<!月)" + _NUM + r"\s*(?:号楼|号|栋|幢|座|楼)\s*" + _NUM + r"\s*(?:层|楼)"
)
_BUILDING_ROOM = re.compile(
    r"(?<![0-9+-])([0-9]{1,2})\s*-\s*([0-9]{1,2})\s*-\s*([0-9]{3,4})(?![0-9]|\s*-\s*[0-9])"
)
_BUILDING_ROOM_CN = re.compile(
    r"(?<![0-9])([0-9]{1,2})\s*(?:号楼|栋|幢|座)\s*(?:[0-9]{1,2}\s*单元\s*)?([0-9]{3,4})"
    r"(?![0-9]|\s*(?:年|元|块|万))"
)
_EN_BUILDING = (
    r"(?<![a-z])(?:building|bldg|blk|block|tower)\.?\s*(?:no\.?\s*|#\s*)?([0-9]{1,3})(?![0-9])"
)
_EN_FLOOR = (
    r"(?:(?<![a-z])(?:floor|flr|fl|level|lvl)\.?\s*(?:no\.?\s*|#\s*)?([0-9]{1,3})(?![0-9])"
    r"|(?<![0-9a-z])([0-9]{1,3})\s*(?:st|nd|rd|th)?\s*(?:floor|flr|fl|f)(?![a-z]))"
)
_BUILDING_FLOOR_EN = re.compile(_EN_BUILDING + r"[^0-9.!?;。！？；\n]{0,15}?" + _EN_FLOOR)
_FLOOR_BUILDING_EN = re.compile(
    _EN_FLOOR + r"\s*(?:,\s*|of\s+|in\s+|at\s+)?(?:the\s+)?" + _EN_BUILDING
)
_BUILDING_FLOOR_CODE = re.compile(
    r"(?<![a-z0-9])b\s?([0-9]{1,2})\s*[-/]?\s*f\s?([0-9]{1,3})(?![0-9a-z])"
)


def _place(building: int | None, floor: int | None, unit: str | None = None) -> str | None:
    """A building/floor(/unit) path, or None when a number is missing or zero."""
    if not building or not floor:
        return None
    return f"{building}/{floor}/{unit}" if unit else f"{building}/{floor}"


def _looks_like_date(first: int, middle: int, last: str) -> bool:
    """Whether a-b-yyyy reads as a day and month with a year (12-01-2026, 1-12-2026)."""
    if len(last) != 4 or not 1900 <= int(last) <= 2099:
        return False
    return (1 <= first <= 31 and 1 <= middle <= 12) or (1 <= first <= 12 and 1 <= middle <= 31)


def _room_path(match: re.Match[str]) -> str | None:
    """The path of a building-floor-unit or building-entrance-room triple (see below)."""
    building, middle, room = int(match.group(1)), int(match.group(2)), match.group(3)
    floor = int(room[:-2])
    if floor != middle and _looks_like_date(building, middle, room):
        return None
    return _place(building, floor, room)


def location_from_text(text: str) -> tuple[str, str] | None:
    """A location path read from the text (e.g. 3号楼12层 → 3/12), and the words it came from.

    Forms read: 3号楼12层, 3栋12楼, 二号楼十二层; 7号楼1202室, 4栋2单元301; building 3
    floor 12, bldg 3, 12th floor, building 3 12F, floor 12 of building 3, 12th floor of
    block 3, B3 F12, B3F12; and number triples. A triple a-b-ccc(c) is building, floor,
    unit when the room number's leading digits are the middle group (3-12-1201 →
    3/12/1201), otherwise building, entrance (单元), room (4-2-301 → 4/3/301); either way
    the floor is the room's leading digits, since the hub's tree is building / floor /
    unit. A triple that is not self-consistent and reads as a date with a year
    (12-01-2026) is not a location; neither are ISO dates (2026-12-01), phone numbers or
    amounts (3栋2023年, 5000元). Zero buildings or floors are refused.
    """
    folded = fold(text).text
    for m in _BUILDING_ROOM.finditer(folded):
        if (path := _room_path(m)) is not None:
            return path, m.group(0)
    for m in _BUILDING_ROOM_CN.finditer(folded):
        room = m.group(2)
        if (path := _place(int(m.group(1)), int(room[:-2]), room)) is not None:
            return path, m.group(0)
    for m in _BUILDING_FLOOR.finditer(folded):
        if (path := _place(_number(m.group(1)), _number(m.group(2)))) is not None:
            return path, m.group(0)
    for m in _BUILDING_FLOOR_EN.finditer(folded):
        if (path := _place(int(m.group(1)), int(m.group(2) or m.group(3)))) is not None:
            return path, m.group(0)
    for m in _FLOOR_BUILDING_EN.finditer(folded):
        if (path := _place(int(m.group(3)), int(m.group(1) or m.group(2)))) is not None:
            return path, m.group(0)
    for m in _BUILDING_FLOOR_CODE.finditer(folded):
        if (path := _place(int(m.group(1)), int(m.group(2)))) is not None:
            return path, m.group(0)
    return None


def _restroom_place(location: LocationContext | None) -> bool:
    return location is not None and bool(_RESTROOM_CODES.search(location.path.lower()))


def _gate_place(location: LocationContext | None) -> bool:
    return location is not None and bool(_GATE_CODES.search(location.path.lower()))


def _category(
    folded: str, location: LocationContext | None, reasons: list[str]
) -> tuple[Category, dict[str, float]]:
    """The best-scoring category, or `other` when the evidence is too weak."""
    matches = _matches(folded, "category", CATEGORY_TERMS)
    scores = _scores(matches)
    if location is not None and _restroom_place(location):
        scores[Category.sanitation] = scores.get(Category.sanitation, 0.0) + 1.0
        reasons.append(f"category sanitation: location {location.path} is a restroom")
    category = Category.other
    if scores:
        best = max(
            CATEGORY_PRIORITY,
            key=lambda c: (scores.get(c, 0.0), -CATEGORY_PRIORITY.index(c)),
        )
        category = best if scores.get(best, 0.0) >= MIN_CATEGORY else Category.other
    if category is Category.other:
        weak = ", ".join(m.term for m in matches)
        reasons.append(
            f"category other: too little evidence ({weak})"
            if weak
            else "category other: no category term matched"
        )
    elif terms := _terms(matches, category):
        reasons.append(f"category {category}: {', '.join(terms)}")
    return category, scores


SUPPLY_TERMS = frozenset(
    {
        "厕纸",
        "卫生纸",
        "纸巾",
        "擦手纸",
        "没纸",
        "纸盒",
        "洗手液",
        "皂液",
        "toilet paper",
        "paper towel",
        "soap",
    }
)
"""Restroom supplies: they name a public restroom's dispenser even in a text about home."""


def _device_kinds(
    folded: str, location: LocationContext | None, reasons: list[str]
) -> tuple[list[DeviceKind], dict[str, float]]:
    """Each device kind whose terms (and the place) reach the threshold."""
    matches = _matches(folded, "device", DEVICE_TERMS)
    scores = _scores(matches)
    at_home = bool(_matches(folded, "home", {"home": HOME_TERMS})) or (
        location is not None and not location.public
    )
    restroom_place = _restroom_place(location)
    if restroom_place:
        scores[DeviceKind.restroom] = scores.get(DeviceKind.restroom, 0.0) + 1.5
    if _gate_place(location):
        scores[DeviceKind.gate] = scores.get(DeviceKind.gate, 0.0) + 1.0
    kinds: list[DeviceKind] = []
    for kind in DeviceKind:
        if scores.get(kind, 0.0) < DEVICE_THRESHOLD:
            continue
        terms = _terms(matches, kind)
        if (
            kind is DeviceKind.restroom
            and at_home
            and not restroom_place
            and not SUPPLY_TERMS.intersection(terms)
        ):
            reasons.append("device restroom: not counted, the bathroom is in a home")
            continue
        kinds.append(kind)
        where = []
        if kind is DeviceKind.restroom and restroom_place and location is not None:
            where.append(f"location {location.path}")
        if kind is DeviceKind.gate and location is not None and _gate_place(location):
            where.append(f"location {location.path}")
        reasons.append(f"device {kind}: {', '.join(terms + where)}")
    return kinds, scores


@dataclass
class _Sides:
    """The evidence for the property and for the strongest outside party."""

    property_score: float
    property_why: list[str]
    party: Party | None
    party_score: float
    party_scores: dict[str, float]
    party_matches: list[Match]


def _sides(folded: str, category: Category, location: LocationContext | None) -> _Sides:
    prop_matches = _matches(folded, "property", {"property": PROPERTY_TERMS})
    party_matches = _matches(folded, "party", PARTY_TERMS)
    prop_score = sum(m.weight for m in prop_matches)
    prop_why = [m.term for m in sorted(prop_matches, key=lambda m: m.start)]
    if category in PROPERTY_SCOPE:
        prop_score += SCOPE_PRIOR
        prop_why.append(f"category {category} is within the property's scope")
    if location is not None and location.public:
        prop_score += PUBLIC_AREA_PRIOR
        prop_why.append(f"location {location.path} is a common area")
    party_scores = _scores(party_matches)
    if category is Category.neighbour_relations:
        party_scores[Party.neighbour] = party_scores.get(Party.neighbour, 0.0) + NEIGHBOUR_PRIOR
    party: Party | None = None
    if party_scores:
        party = max(Party, key=lambda p: (party_scores.get(p, 0.0), -list(Party).index(p)))
    party_score = party_scores.get(party, 0.0) if party is not None else 0.0
    return _Sides(prop_score, prop_why, party, party_score, party_scores, party_matches)


def _responsibility(
    sides: _Sides, category: Category, reasons: list[str]
) -> tuple[Responsibility, Party | None]:
    """The clearly stronger side wins; a near tie is `undetermined`."""
    party, party_score, prop_score = sides.party, sides.party_score, sides.property_score
    if party_score < MIN_EVIDENCE and prop_score < MIN_EVIDENCE:
        reasons.append("responsibility undetermined: nothing names the property or a party")
        return Responsibility.undetermined, None
    if party is not None and party_score >= 2.0 and party_score >= prop_score + MARGIN:
        why = _terms(sides.party_matches, party)
        if category is Category.neighbour_relations:
            why.append("category neighbour_relations")
        reasons.append(f"responsibility non_property ({party}): {', '.join(why)}")
        return Responsibility.non_property, party
    if prop_score >= party_score + MARGIN and prop_score >= MIN_EVIDENCE:
        reasons.append(f"responsibility property: {', '.join(sides.property_why)}")
        return Responsibility.property, None
    against = ", ".join(_terms(sides.party_matches, party or "")) or "nothing"
    reasons.append(
        f"responsibility undetermined: property ({', '.join(sides.property_why) or 'nothing'}) "
        f"against {party} ({against})"
    )
    return Responsibility.undetermined, None


def classify(text: str, *, location: LocationContext | None = None) -> Classification:
    """Classify complaint `text`, optionally knowing where the problem is."""
    folded = fold(text, keep="words").text
    reasons: list[str] = []
    category, cat_scores = _category(folded, location, reasons)
    device_kinds, dev_scores = _device_kinds(folded, location, reasons)
    sides = _sides(folded, category, location)
    responsibility, party = _responsibility(sides, category, reasons)
    hint = location_from_text(text)
    if hint is not None:
        reasons.append(f"location {hint[0]} from the text: {hint[1]}")
    return Classification(
        responsibility=responsibility,
        party=party,
        category=category,
        device_kinds=device_kinds,
        reasons=reasons,
        location_hint=hint[0] if hint else None,
        scores={
            "category": {str(k): v for k, v in cat_scores.items()},
            "device": {str(k): v for k, v in dev_scores.items()},
            "responsibility": {
                "property": sides.property_score,
                **{str(k): v for k, v in sides.party_scores.items()},
            },
        },
    )


ESCALATION_TERMS: dict[Trigger, Lexicon] = _labelled("escalation", Trigger)


def escalation_signals(text: str) -> dict[Trigger, list[str]]:
    """Escalation triggers the text itself mentions, with the words that show them."""
    folded = fold(text, keep="words").text
    matches = _matches(folded, "escalation", ESCALATION_TERMS)
    found: dict[Trigger, list[str]] = {}
    for trigger in Trigger:
        terms = _terms(matches, trigger)
        if terms:
            found[trigger] = terms
    return found
