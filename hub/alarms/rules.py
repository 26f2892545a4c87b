"""The rule book: each kind's default rules, overridden per site from a TOML rules file.

File layout (every key optional; `defaults` applies to all sites, a site's table wins):

    [defaults.light.lamp_failure]
    for_s = 120
    [sites.sunshine-garden.gate.lane_blocked]
    for_s = 600
    priority = "urgent"
    [sites.sunshine-garden.restroom.supplies_low]
    below_pct = 15          # any other key is a rule parameter
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devices import SPECS
from devices.base import Rule
from hub.alarms.enums import AlarmSeverity
from hub.errors import InvalidInput
from hub.workorders.enums import Department, Priority

OFFLINE = "device_offline"
"""The availability alarm type every kind has."""

_FIELDS = {
    "for_s": int,
    "clear_for_s": int,
    "cooldown_s": int,
    "flap_count": int,
    "flap_window_s": int,
    "flap_quiet_s": int,
    "group_depth": int,
    "enabled": bool,
    "opens_order": bool,
    "title": str,
}
_ENUMS: dict[str, type[Any]] = {
    "severity": AlarmSeverity,
    "department": Department,
    "priority": Priority,
}

Overrides = dict[str, dict[str, dict[str, dict[str, Any]]]]
"""site (or "*") -> kind -> rule type -> field or parameter -> value."""


def _never(_state: Mapping[str, Any], _p: Mapping[str, float]) -> bool | None:
    return None


def offline_rule(kind: str) -> Rule:
    """The availability rule of a kind: raised by LWT or heartbeat, cleared by traffic."""
    spec = SPECS[kind]
    return Rule(
        type=OFFLINE,
        title="设备离线 Device offline",
        when=_never,
        severity=AlarmSeverity.warning,
        department=Department.engineering,
        priority=spec.offline_priority,
        group_depth=0,
    )


def _apply(rule: Rule, changes: Mapping[str, Any], where: str) -> Rule:
    fields: dict[str, Any] = {}
    params = dict(rule.params)
    for key, value in changes.items():
        if key in _FIELDS:
            if key == "group_depth" and value is not None and value < 0:
                raise InvalidInput(f"{where}.{key}: must be >= 0")
            expected = _FIELDS[key]
            ok = (
                isinstance(value, bool)
                if expected is bool
                else isinstance(value, expected) and not isinstance(value, bool)
            )
            if not ok:
                raise InvalidInput(f"{where}.{key}: expected {_FIELDS[key].__name__}")
            fields[key] = value
        elif key in _ENUMS:
            try:
                fields[key] = _ENUMS[key](value)
            except ValueError as exc:
                raise InvalidInput(f"{where}.{key}: unknown value {value!r}") from exc
        elif key in rule.params:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"{where}.{key}: expected a number")
            params[key] = float(value)
        else:
            known = sorted([*_FIELDS, *_ENUMS, *rule.params])
            raise InvalidInput(f"{where}.{key}: unknown setting; known: {', '.join(known)}")
    if fields.get("for_s", 0) < 0 or fields.get("clear_for_s", 0) < 0:
        raise InvalidInput(f"{where}: durations must be >= 0")
    return dataclasses.replace(rule, params=params, **fields)


class RuleBook:
    """Resolved rules per (site, kind), defaults plus overrides; built once, read often."""

    def __init__(self, overrides: Overrides | None = None) -> None:
        self._overrides: Overrides = overrides or {}
        self._cache: dict[tuple[str, str], dict[str, Rule]] = {}
        for site in self._overrides:
            for kind in SPECS:
                self.rules(site, kind)  # validate the whole file up front

    @classmethod
    def from_file(cls, path: Path | None) -> RuleBook:
        """The rule book of a TOML rules file (defaults only when `path` is None)."""
        if path is None:
            return cls()
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(f"rules file {path}: {exc}") from exc
        return cls.from_dict(doc)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RuleBook:
        """The rule book of a parsed rules document (`defaults` and `sites` tables)."""
        unknown = set(doc) - {"defaults", "sites"}
        if unknown:
            raise InvalidInput(f"rules file: unknown tables {sorted(unknown)}")
        overrides: Overrides = {}
        if "defaults" in doc:
            overrides["*"] = dict(doc["defaults"])
        for site, table in dict(doc.get("sites", {})).items():
            overrides[site] = dict(table)
        for site, kinds in overrides.items():
            for kind, rules in kinds.items():
                if kind not in SPECS:
                    raise InvalidInput(f"rules file: {site}: unknown kind {kind!r}")
                known = {r.type for r in SPECS[kind].rules} | {OFFLINE}
                for rule_type in rules:
                    if rule_type not in known:
                        raise InvalidInput(
                            f"rules file: {site}.{kind}: unknown rule {rule_type!r}; "
                            f"known: {', '.join(sorted(known))}"
                        )
        return cls(overrides)

    def rules(self, site: str, kind: str) -> dict[str, Rule]:
        """Every rule of `kind` as it applies in `site`, by type (disabled ones left out)."""
        key = (site, kind)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        resolved: dict[str, Rule] = {}
        for rule in (*SPECS[kind].rules, offline_rule(kind)):
            for scope in ("*", site):
                changes = self._overrides.get(scope, {}).get(kind, {}).get(rule.type)
                if changes:
                    rule = _apply(rule, changes, f"{scope}.{kind}.{rule.type}")
            if rule.enabled:
                resolved[rule.type] = rule
        self._cache[key] = resolved
        return resolved

    def rule(self, site: str, kind: str, rule_type: str) -> Rule | None:
        """One rule as it applies in `site`, or None if unknown or disabled."""
        return self.rules(site, kind).get(rule_type)
