# ruff: noqa: E501 -- one case per line reads as a table
"""The cross-check table: each claim against what the sensors said, as parametrised cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.inspections.crosscheck import AlarmSpan, Claim, Reading, check
from hub.inspections.enums import Item, State, Verdict

T = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)  # 10:15 in Shanghai
MIN = timedelta(minutes=1)


def tel(minutes: float, **values: Any) -> Reading:
    """A telemetry reading `minutes` after the claim (negative: before)."""
    return Reading(T + minutes * MIN, "telemetry", None, values, f"d{minutes}")


def event(minutes: float, kind: str, **values: Any) -> Reading:
    """An event `minutes` after the claim."""
    return Reading(T + minutes * MIN, "event", kind, {"type": kind, **values}, f"e{minutes}")


def alarm(kind: str, raised: float, cleared: float | None = None) -> AlarmSpan:
    """An alarm raised (and perhaps cleared) at minutes from the claim."""
    return AlarmSpan(1, kind, T + raised * MIN, None if cleared is None else T + cleared * MIN)


CASES: list[tuple[str, Item, State, list[Reading], list[AlarmSpan], Verdict]] = [
    ("ok while empty", Item.paper, State.ok, [tel(-8, paper_pct=4), tel(-3, paper_pct=0)], [], Verdict.contradicted),
    ("ok while low but not empty", Item.paper, State.ok, [tel(-3, paper_pct=8)], [], Verdict.consistent),
    ("empty while at 80 %", Item.soap, State.empty, [tel(-2, soap_pct=80)], [], Verdict.contradicted),
    ("low while full", Item.towel, State.low, [tel(-2, towel_pct=95)], [], Verdict.contradicted),
    ("empty while low", Item.paper, State.empty, [tel(-2, paper_pct=6)], [], Verdict.consistent),
    ("ok after a refill", Item.paper, State.ok, [tel(-6, paper_pct=0), event(-2, "refilled", item="paper")], [], Verdict.consistent),
    ("empty after a refill", Item.paper, State.empty, [tel(-6, paper_pct=0), event(-2, "refilled", item="paper")], [], Verdict.contradicted),
    ("refill of another item", Item.paper, State.ok, [tel(-6, paper_pct=0), event(-2, "refilled", item="soap")], [], Verdict.contradicted),
    ("reading older than the heartbeat", Item.paper, State.ok, [tel(-11, paper_pct=0)], [], Verdict.unverifiable),
    ("first reading after, in the window", Item.paper, State.ok, [tel(4, paper_pct=0)], [], Verdict.contradicted),
    ("first reading after the window", Item.paper, State.ok, [tel(16, paper_pct=0)], [], Verdict.unverifiable),
    ("dispenser fault", Item.paper, State.fault, [tel(-1, paper_pct=50)], [], Verdict.unverifiable),
    ("no reading of that item", Item.soap, State.ok, [tel(-1, paper_pct=0)], [], Verdict.unverifiable),
    ("lamp ok while its alarm stands", Item.light, State.ok, [tel(-1, on=True, power_w=0.0)], [alarm("lamp_failure", -5)], Verdict.contradicted),
    ("lamp ok while dark, no alarm yet", Item.light, State.ok, [tel(-1, on=True, power_w=0.2)], [], Verdict.contradicted),
    ("lamp ok, alarm cleared before", Item.light, State.ok, [tel(-1, on=True, power_w=9.1)], [alarm("lamp_failure", -30, -10)], Verdict.consistent),
    ("lamp fault while lit", Item.light, State.fault, [tel(-1, on=True, power_w=9.1)], [], Verdict.contradicted),
    ("lamp fault with the alarm", Item.light, State.fault, [tel(-1, on=True, power_w=0.0)], [alarm("light_fault", -3)], Verdict.consistent),
    ("lamp switched off", Item.light, State.fault, [tel(-1, on=False)], [], Verdict.consistent),
    ("leak ok while wet", Item.leak, State.ok, [tel(-1, leak=True)], [], Verdict.contradicted),
    ("leak ok while its alarm stands", Item.leak, State.ok, [tel(-1, leak=False)], [alarm("leak_detected", -4)], Verdict.contradicted),
    ("leak ok while dry", Item.leak, State.ok, [tel(-1, leak=False)], [], Verdict.consistent),
    ("leak fault while dry all along", Item.leak, State.fault, [tel(-1, leak=False), tel(5, leak=False)], [], Verdict.contradicted),
    ("leak fault, wet a little later", Item.leak, State.fault, [tel(-1, leak=False), tel(5, leak=True)], [], Verdict.consistent),
    ("gate ok with a fault code", Item.gate, State.ok, [tel(-1, arm="down", fault="E07")], [], Verdict.contradicted),
    ("gate ok while a fault alarm stands", Item.gate, State.ok, [tel(-1, arm="down", fault=None)], [alarm("gate_fault_event", -2)], Verdict.contradicted),
    ("gate ok", Item.gate, State.ok, [tel(-1, arm="down", fault=None)], [], Verdict.consistent),
    ("gate fault while the arm moves", Item.gate, State.fault, [tel(-1, arm="up", fault=None), event(2, "arm_down", source="auto")], [], Verdict.contradicted),
    ("gate fault with a fault code", Item.gate, State.fault, [tel(-1, arm="down", fault="E07"), event(2, "arm_down", source="auto")], [], Verdict.consistent),
    ("other items are not checked", Item.other, State.fault, [tel(-1, paper_pct=0)], [], Verdict.unverifiable),
]  # fmt: skip


@pytest.mark.parametrize(
    ("item", "state", "readings", "alarms", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_claims_against_the_sensors(
    item: Item, state: State, readings: list[Reading], alarms: list[AlarmSpan], expected: Verdict
) -> None:
    claim = Claim(item, state, T, timedelta(minutes=10), UTC)
    result = check(claim, readings, alarms)
    assert result.verdict == expected, result
    if expected == Verdict.contradicted:
        assert result.reason
        assert result.evidence
        assert result.at is not None


def test_a_contradiction_says_when_the_box_ran_out() -> None:
    readings = [tel(-9, paper_pct=12), tel(-6, paper_pct=0), tel(-3, paper_pct=0)]
    claim = Claim(Item.paper, State.ok, T, timedelta(minutes=10), UTC)
    result = check(claim, readings, [])
    assert result.at == T - 6 * MIN
    assert "empty since 2026-11-23 02:09:00+00:00" in result.reason
    assert [e["digest"] for e in result.evidence] == ["d-6", "d-3"]
