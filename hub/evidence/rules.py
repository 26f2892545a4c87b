"""What a finding is, per device kind: rules as data, read by `findings.py`.

Four shapes of rule, each matched against the timeline's entries:

- `Moment`: one entry (a device's event, an alarm, an order's move) says something by itself;
  `near` keeps only those close to a finding of another kind (the arm's moves around the press).
- `Change`: a reading enters a state and later leaves it (paper ran out / refilled, water
  detected / dry again, a lamp failed / lit again).
- `Stretch`: a state held for at least `min_s` while nothing moved (the loop occupied with
  the arm still).
- `Against`: a patrol entry's claim set against a `Change`'s state at that moment.

Statements are templates in Chinese and English; `{time}`, `{until}`, `{duration}`,
`{after}`, `{device}`, `{order}`, `{note}`, `{sla}`, `{inspector}`, `{item}`, `{since}` and
the entry's own data fields fill them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPS = ("eq", "le", "gt", "in")


@dataclass(frozen=True)
class Test:
    """`field op value` on an entry's data; None when the field is absent."""

    field: str
    op: str
    value: Any

    def holds(self, data: Mapping[str, Any]) -> bool | None:
        """Whether `data` passes, None when it does not say."""
        if self.field not in data or data[self.field] is None:
            return None
        got = data[self.field]
        if self.op == "eq":
            return bool(got == self.value)
        if self.op == "in":
            return bool(got in self.value)
        if isinstance(got, bool) or not isinstance(got, int | float):
            return None
        limit = float(self.value)
        return got <= limit if self.op == "le" else got > limit


def passes(tests: tuple[Test, ...], data: Mapping[str, Any]) -> bool | None:
    """All tests hold (True), one fails (False), or one cannot tell (None)."""
    verdicts = [t.holds(data) for t in tests]
    if False in verdicts:
        return False
    return None if None in verdicts else True


@dataclass(frozen=True)
class Moment:
    """One entry that says something by itself."""

    kind: str
    entry: str  # "event" (a device's event), "alarm" or "work_order_event"
    tests: tuple[Test, ...]
    zh: str
    en: str
    device_kind: str | None = None
    decisive: bool = False
    near: str | None = None
    within_s: int = 600
    sla_step: str | None = None


@dataclass(frozen=True)
class Change:
    """A reading's state entered (`zh_in`) and left (`zh_out`); None says nothing."""

    kind: str
    device_kind: str
    tests: tuple[Test, ...]
    zh_in: str | None
    en_in: str | None
    zh_out: str | None
    en_out: str | None
    decisive: bool = False
    item: str | None = None


@dataclass(frozen=True)
class Stretch:
    """A state held at least `min_s` while no event of `breaks` came and `still` kept."""

    kind: str
    device_kind: str
    tests: tuple[Test, ...]
    breaks: tuple[str, ...]
    still: tuple[str, ...]
    min_s: int
    zh: str
    en: str
    decisive: bool = True


@dataclass(frozen=True)
class Against:
    """A patrol entry's item claimed fine while the `change` state held."""

    kind: str
    change: str
    item: str
    claimed: tuple[str, ...]
    zh: str
    en: str
    decisive: bool = True


Rule = Moment | Change | Stretch | Against

SOURCES = {
    "manual_button": ("岗亭按钮", "the booth button"),
    "auto": ("自动落杆", "the automatic close"),
    "plate_match": ("车牌识别", "a plate match"),
    "remote": ("遥控", "the remote control"),
    "timer": ("定时", "the timer"),
}
ITEMS = {"paper": ("纸巾", "paper"), "soap": ("洗手液", "soap"), "towel": ("擦手纸", "towels")}


def _supplies(item: str) -> tuple[Rule, ...]:
    zh, en = ITEMS[item]
    change = Change(
        f"{item}_out",
        "restroom",
        (Test(f"{item}_pct", "le", 0),),
        f"{{time}} {{device}} 的{zh}用完了",
        f"The {en} ran out at {{time}} ({{device}})",
        f"{{time}} {{device}} 的{zh}已补充",
        f"The {en} was refilled at {{time}} ({{device}})",
        decisive=True,
        item=item,
    )
    against = Against(
        f"{item}_patrol_contradicted",
        f"{item}_out",
        item,
        ("ok", "low"),
        f"巡查记录({{inspector}},{{time}})称{zh}「{{claimed}}」,但传感器显示自 {{since}} 起已用完",
        f"The patrol entry by {{inspector}} at {{time}} says the {en} was "
        f"{{claimed}}, but the sensor shows it empty since {{since}}",
    )
    return change, against


def _order_moves() -> tuple[Rule, ...]:
    """An order's life, for every kind: opened, dispatched, on site, held, resolved."""
    to = "to"
    moved = Test("action", "in", ("moved", "reopened"))
    return (
        Moment("order_opened", "work_order_event", (Test("action", "eq", "opened"),),
               "{time} 开出工单 #{order}", "Work order #{order} was opened at {time}"),
        Moment("order_dispatched", "work_order_event", (moved, Test(to, "eq", "dispatched")),
               "{time} 工单 #{order} 派给 {assignee}{sla}",
               "Work order #{order} was dispatched to {assignee} at {time}{sla}",
               sla_step="dispatch"),
        Moment("order_on_site", "work_order_event", (moved, Test(to, "eq", "on_site")),
               "{time} 维修人员到场(工单 #{order}){sla}",
               "Staff were on site at {time} (work order #{order}){sla}", sla_step="on_site"),
        Moment("order_on_hold", "work_order_event", (moved, Test(to, "eq", "on_hold")),
               "{time} 工单 #{order} 挂起:{note}",
               "Work order #{order} was put on hold at {time}: {note}", decisive=True),
        Moment("order_resolved", "work_order_event", (moved, Test(to, "eq", "resolved")),
               "{time} 工单 #{order} 已修复{sla}",
               "Work order #{order} was resolved at {time}{sla}", sla_step="resolve"),
    )  # fmt: skip


def _gate() -> tuple[Rule, ...]:
    moved = ("arm_up", "arm_down")
    return (
        Moment("arm_lowered_onto_vehicle", "event",
               (Test("type", "eq", "arm_down"), Test("source", "eq", "manual_button"),
                Test("loop_occupied", "eq", True)),
               "道闸由岗亭按钮落杆,当时有车辆停在线圈上({time},{device})",
               "The arm was lowered from the booth button while a vehicle stood on the loop "
               "({time}, {device})", device_kind="gate", decisive=True),
        Moment("arm_moved", "event", (Test("type", "in", moved),),
               "{time} 道闸{move},由{source_zh}触发,线圈{loop_zh}",
               "The arm went {move_en} at {time}, from {source_en}, loop {loop_en}",
               device_kind="gate", near="arm_lowered_onto_vehicle", within_s=300),
        Moment("vehicle_passed", "event", (Test("type", "in", ("vehicle_in", "vehicle_out")),),
               "{time} 车辆 {plate} 通过", "Vehicle {plate} passed at {time}",
               device_kind="gate", near="arm_lowered_onto_vehicle", within_s=300),
        Moment("alarm_closed_on_vehicle", "alarm", (Test("type", "eq", "gate_closed_on_vehicle"),),
               "{time} 系统报警:落杆时车辆在线圈上,已通知保安",
               "The hub raised the alarm at {time}: arm lowered onto an occupied loop",
               device_kind="gate"),
        Stretch("lane_occupied", "gate", (Test("loop_occupied", "eq", True),), moved, ("arm",),
                300, "线圈被占用 {duration}({time} 至 {until}),期间道闸未动",
                "The loop was occupied for {duration} ({time} to {until}) and the arm did not "
                "move"),
        Moment("security_warned", "alarm", (Test("type", "eq", "lane_blocked"),),
               "{time} 已提醒保安车道堵塞,距线圈开始占用 {after}",
               "Security was warned of the blocked lane at {time}, {after} after the loop was "
               "first occupied", device_kind="gate", near="lane_occupied", within_s=86400,
               decisive=True),
    )  # fmt: skip


def _leak() -> tuple[Rule, ...]:
    return (
        Change("water", "leak", (Test("leak", "eq", True),),
               "{time} {device} 首次检测到漏水", "Water was first detected at {time} ({device})",
               "{time} {device} 恢复干燥", "Dry again at {time} ({device})", decisive=True),
        Change("flow", "leak", (Test("flow_lpm", "gt", 0),), None, None,
               "{time} 水流已切断({device})", "The water was shut off at {time} ({device})"),
        Moment("leak_alarm", "alarm", (Test("type", "eq", "leak_detected"),),
               "{time} 系统发出漏水报警", "The hub raised the leak alarm at {time}",
               device_kind="leak"),
    )  # fmt: skip


def _light() -> tuple[Rule, ...]:
    return (
        Change("lamp", "light", (Test("on", "eq", True), Test("power_w", "le", 1.0)),
               "{time} {device} 灯具损坏(通电无功率)",
               "The lamp of {device} failed at {time} (on, drawing no power)",
               "{time} {device} 恢复照明", "{device} lit again at {time}", decisive=True),
    )  # fmt: skip


RULES: dict[str, tuple[Rule, ...]] = {
    "gate": _gate(),
    "restroom": _supplies("paper") + _supplies("soap") + _supplies("towel"),
    "leak": _leak(),
    "light": _light(),
    "order": _order_moves(),
}
"""Every rule by the device kind it reads; `order` applies whatever the devices are."""

WORDS = {
    "arm_up": ("抬杆", "up"),
    "arm_down": ("落杆", "down"),
    True: ("有车", "occupied"),
    False: ("无车", "clear"),
}
