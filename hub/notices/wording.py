"""What a notice says to residents, in Chinese and English, by the kind of fault.

Only faults residents meet on shared parts get a notice: corridor lights out, a leak in a
pipe well, a restroom out of supplies, a barrier gate out of order or a blocked lane. A
low battery, a device gone silent or a gate incident is the staff's business, not a notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.registry.places import place_text

GROUPS: dict[str, str] = {
    "lamp_failure": "lights",
    "light_fault": "lights",
    "leak_detected": "water",
    "supplies_low": "restroom",
    "supplies_empty": "restroom",
    "gate_fault": "gate",
    "gate_fault_event": "gate",
    "gate_stuck_open": "gate",
    "obstruction": "gate",
    "lane_blocked": "lane",
}
"""Alarm types that make a notice, and the text group of each."""

_SHORT: dict[str, tuple[str, str]] = {
    "lights": ("公共照明故障", "lights out"),
    "water": ("漏水抢修", "leak being repaired"),
    "restroom": ("卫生间用品补充中", "restroom supplies being refilled"),
    "gate": ("道闸故障", "barrier gate out of order"),
    "lane": ("车道暂时被占", "lane blocked"),
}


@dataclass(frozen=True)
class Text:
    """A notice's title and bodies."""

    title: str
    title_en: str
    body: str
    body_en: str


def notice_type(alarm_types: Sequence[str]) -> str | None:
    """The first of the order's alarm types that residents get a notice about."""
    return next((t for t in alarm_types if t in GROUPS), None)


def _places(paths: Sequence[str]) -> tuple[str, str]:
    """The places, each once; places under one parent name the parent once
    (会所2楼男卫生间、女卫生间)."""
    zh_parts: list[str] = []
    last_parent = None
    for path in dict.fromkeys(paths):
        parent, _, leaf = path.rpartition("/")
        whole = place_text(path)[0]
        if parent and parent == last_parent and not leaf.isdigit():
            whole = whole.removeprefix(place_text(parent)[0]) or whole
        zh_parts.append(whole)
        last_parent = parent
    en = "; ".join(dict.fromkeys(place_text(p)[1] for p in paths))
    return "、".join(zh_parts), en


def _joined(where: str, what: str) -> str:
    """`where` then `what`, saying once a word both end and start with (卫生间)."""
    for size in range(min(len(where), len(what)), 0, -1):
        if where.endswith(what[:size]):
            return where + what[size:]
    return where + what


def _below(path: str) -> tuple[str, str]:
    codes = path.split("/")
    if len(codes) >= 2 and codes[0].isdigit() and codes[1].isdigit():
        return (
            f"{codes[0]}号楼{codes[1]}层及以下的",
            f"on floor {codes[1]} and below in building {codes[0]}",
        )
    return "附近的", "nearby"


def text(alarm_type: str, fault_paths: Sequence[str]) -> Text:
    """The notice for a fault of `alarm_type` at `fault_paths`."""
    group = GROUPS[alarm_type]
    where_zh, where_en = _places(fault_paths)
    short_zh, short_en = _SHORT[group]
    title = _joined(where_zh, short_zh)[:300]
    title_en = f"{where_en[:1].upper()}{where_en[1:]}: {short_en}"[:300]
    if group == "lights":
        body = f"【通知】{where_zh}公共照明故障，工程部已在处理，维修期间请注意通行安全。"
        body_en = (
            f"Notice: the lights at {where_en} are out. Engineering is on it; please take "
            "care on the way meanwhile."
        )
    elif group == "water":
        below_zh, below_en = _below(fault_paths[0])
        body = (
            f"【通知】{where_zh}发现漏水，工程部正在抢修。{below_zh}住户请留意家中天花板和墙面，"
            "可能短时停水。"
        )
        body_en = (
            f"Notice: a leak was found at {where_en} and engineering is repairing it. "
            f"Residents {below_en}: please check your ceilings and walls; the water may be "
            "off for a short while."
        )
    elif group == "restroom":
        body = f"【通知】{where_zh}用品正在补充，请稍候或使用其他楼层的卫生间。"
        body_en = (
            f"Notice: the supplies at {where_en} are being refilled; please use another "
            "floor's restroom meanwhile."
        )
    elif group == "gate":
        body = f"【通知】{where_zh}道闸故障，安保人员正在处理，请车辆减速慢行，听从现场指挥。"
        body_en = (
            f"Notice: the barrier at {where_en} is out of order and security is on it. "
            "Please drive slowly and follow the guard's directions."
        )
    else:
        body = f"【通知】{where_zh}车道暂时被占，安保人员正在疏导，请耐心等候或绕行。"
        body_en = (
            f"Notice: the lane at {where_en} is blocked for now and security is clearing it. "
            "Please wait or use another entrance."
        )
    return Text(
        title,
        title_en,
        body + "给您带来不便，敬请谅解。",
        body_en + " We are sorry for the trouble.",
    )
