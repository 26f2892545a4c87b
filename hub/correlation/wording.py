"""What the desk can say about a known issue, in Chinese and English.

A suggestion says what the hub knows: who is on it, the order's status, its next deadline
in local time, why it waits and since when, whether someone went to shut the water off.
It never promises what the order does not say, and it passes the forbidden-phrase check
(`hub.complaints.phrases`); the tests hold it to that for every status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from hub.complaints.phrases import check
from hub.localtime import said_at
from hub.registry.places import place_text

DEPARTMENTS: dict[str, tuple[str, str]] = {
    "engineering": ("工程部", "engineering"),
    "cleaning": ("保洁部", "cleaning"),
    "security": ("安保部", "security"),
    "front_desk": ("客服中心", "the front desk"),
}

STATUSES: dict[str, tuple[str, str]] = {
    "open": ("已登记，正在安排人员", "registered, and someone is being assigned"),
    "dispatched": ("已派工，维修人员正在赶往现场", "dispatched, on the way"),
    "on_site": ("维修人员已在现场处理", "on site and working on it"),
    "on_hold": ("暂停等待中", "on hold"),
    "resolved": ("已处理完毕", "fixed"),
    "callback": ("已处理完毕，正在回访", "fixed, and we are calling back"),
    "closed": ("已完成", "completed"),
    "cancelled": ("工单已取消，我们会重新核实", "cancelled; we are checking it again"),
}

STEPS: dict[str, tuple[str, str]] = {
    "dispatch": ("派工", "assigned"),
    "on_site": ("到场", "on site"),
    "resolve": ("修复", "fixed"),
    "callback": ("回访", "called back"),
}

FAULTS: dict[str, tuple[str, str]] = {
    "lamp_failure": ("灯不亮的问题", "lamp failure"),
    "light_fault": ("灯具故障", "light fault"),
    "light_waste": ("白天亮灯的问题", "lights left on in daylight"),
    "leak_detected": ("漏水的问题", "leak"),
    "supplies_low": ("用品不足的问题", "low restroom supplies"),
    "supplies_empty": ("用品用完的问题", "empty restroom dispensers"),
    "gate_fault": ("道闸故障", "barrier gate fault"),
    "gate_fault_event": ("道闸故障", "barrier gate fault"),
    "gate_stuck_open": ("道闸不落杆的问题", "barrier stuck open"),
    "gate_closed_on_vehicle": ("道闸落杆碰到车辆的情况", "barrier that came down on a car"),
    "obstruction": ("道闸受阻的情况", "obstructed barrier"),
    "lane_blocked": ("车道被占的问题", "blocked lane"),
}
KIND_FAULTS: dict[str, tuple[str, str]] = {
    "light": ("照明问题", "lighting problem"),
    "leak": ("漏水的问题", "leak"),
    "restroom": ("卫生间的问题", "restroom problem"),
    "gate": ("道闸的问题", "barrier gate problem"),
}


def fault_text(alarm_types: Sequence[str], kinds: Sequence[str]) -> tuple[str, str]:
    """What is wrong, from the order's alarm types (else its device kinds)."""
    for alarm in alarm_types:
        if alarm in FAULTS:
            return FAULTS[alarm]
    for kind in kinds:
        if kind in KIND_FAULTS:
            return KIND_FAULTS[kind]
    return "问题", "problem"


@dataclass(frozen=True)
class OnIt:
    """What the hub knows of the order handling a complaint's problem."""

    order_id: int
    status: str
    department: str
    assignee: str | None
    place: str | None
    alarm_types: tuple[str, ...]
    kinds: tuple[str, ...]
    next_step: str | None
    next_due: datetime | None
    hold_reason: str | None
    on_hold_since: datetime | None
    sensed_at: datetime | None
    resolved_at: datetime | None
    shutoff_by: str | None = None
    shutoff: bool = False
    overdue: bool = False
    """The next deadline has passed already."""


ROLES: dict[str, tuple[str, str]] = {
    "engineering": ("维修人员", "a technician"),
    "cleaning": ("保洁人员", "a cleaner"),
    "security": ("安保人员", "a security guard"),
    "front_desk": ("客服人员", "a member of the desk"),
}
"""Who an owner hears is on it: the department's role, never a person's login."""


def _who(on_it: OnIt) -> tuple[str, str]:
    zh, en = DEPARTMENTS.get(on_it.department, ("物业", "the property office"))
    if on_it.assignee:
        role_zh, role_en = ROLES.get(on_it.department, ("工作人员", "a member of staff"))
        return f"{zh}{role_zh}", f"{role_en} from {en}"
    return zh, en


def _at(at: datetime, zone: tzinfo) -> tuple[str, str]:
    return said_at(at, zone, "zh"), said_at(at, zone, "en")


def _deadline(on_it: OnIt, zone: tzinfo) -> tuple[str, str]:
    if on_it.next_due is None or on_it.next_step is None:
        return "", ""
    step_zh, step_en = STEPS.get(on_it.next_step, (on_it.next_step, on_it.next_step))
    when, when_en = _at(on_it.next_due, zone)
    if on_it.status == "on_hold":
        return (
            f"，时限暂停计时，恢复后应于{when}前{step_zh}",
            f"; its deadline is paused (to be {step_en} by {when_en} once it resumes)",
        )
    if on_it.overdue:
        return (
            f"，原定{when}前{step_zh}，已经超时，我们正在催办",
            f"; it was due to be {step_en} by {when_en}, it is late and we are chasing it",
        )
    return f"，按时限应于{when}前{step_zh}", f"; it is due to be {step_en} by {when_en}"


def _hold(on_it: OnIt, zone: tzinfo) -> tuple[str, str]:
    if on_it.status != "on_hold" or on_it.on_hold_since is None:
        return "", ""
    since, since_en = _at(on_it.on_hold_since, zone)
    reason = on_it.hold_reason or ""
    return (
        f"工单自{since}起暂停，原因：{reason}。一有进展我们马上通知您。",
        f" It has been on hold since {since_en}: {reason}. We will tell you as soon as it moves.",
    )


def suggestion(on_it: OnIt, zone: tzinfo) -> tuple[str, str]:
    """The reply the desk can give (zh, en) about the order already handling the problem.

    The free text it quotes (who is on it, why it waits) is staff's; if that would make the
    reply break the desk's phrase rules, it is left out rather than said to the owner.
    """
    zh, en = _suggestion(on_it, zone)
    if check(zh) or check(en):
        quiet = replace(on_it, assignee=None, hold_reason="见工单 see the work order")
        zh, en = _suggestion(quiet, zone)
    return zh, en


def _suggestion(on_it: OnIt, zone: tzinfo) -> tuple[str, str]:
    place_zh, place_en = place_text(on_it.place)
    fault_zh, fault_en = fault_text(on_it.alarm_types, on_it.kinds)
    who_zh, who_en = _who(on_it)
    status_zh, status_en = STATUSES.get(on_it.status, (on_it.status, on_it.status))
    due_zh, due_en = _deadline(on_it, zone)
    hold_zh, hold_en = _hold(on_it, zone)
    sensed_zh = sensed_en = ""
    if on_it.sensed_at is not None:
        at, at_en = _at(on_it.sensed_at, zone)
        sensed_zh, sensed_en = f"（传感器{at}已报警）", f" (the sensor reported it at {at_en})"
    shut_zh = shut_en = ""
    if on_it.shutoff:
        shut_zh = "已安排值班人员先去关闭水阀，防止损失扩大。"
        shut_en = " The staff on duty have been sent to shut the water off first."
    where_en = f" at {place_en}" if place_en else ""
    if on_it.status in ("resolved", "callback", "closed"):
        done = f"于{_at(on_it.resolved_at, zone)[0]}" if on_it.resolved_at else ""
        done_en = f" at {_at(on_it.resolved_at, zone)[1]}" if on_it.resolved_at else ""
        return (
            f"您好，感谢您的反映。您说的{place_zh}{fault_zh}，{who_zh}已{done}处理完毕"
            f"（工单{on_it.order_id}），我们会在2小时内回访您确认效果。",
            f"Thank you for telling us. Work order {on_it.order_id} for the {fault_en}{where_en}"
            f" was completed{done_en} by {who_en}; we will call you within 2 hours to check it"
            " works for you.",
        )
    if on_it.status == "cancelled":
        return (
            f"您好，感谢您的反映。关于{place_zh}{fault_zh}，原工单{on_it.order_id}已取消，"
            "我们马上重新核实并安排处理，2小时内给您回复。",
            f"Thank you for telling us. Work order {on_it.order_id} for the {fault_en}{where_en}"
            " was cancelled; we are checking it again now and will reply to you within 2 hours.",
        )
    return (
        f"您好，感谢您的反映。您说的{place_zh}{fault_zh}我们已经知道{sensed_zh}，{who_zh}"
        f"正在处理（工单{on_it.order_id}），目前{status_zh}{due_zh}。{hold_zh}{shut_zh}"
        "处理完后我们会在2小时内回访您。给您带来不便，非常抱歉。",
        f"Thank you for telling us. We already know about the {fault_en}{where_en}"
        f"{sensed_en}: {who_en} is on it (work order {on_it.order_id}), {status_en}{due_en}."
        f"{hold_en}{shut_en} We will call you within 2 hours of the repair. We are sorry for "
        "the trouble.",
    )
