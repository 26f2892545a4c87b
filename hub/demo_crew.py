"""The demo's crew closing the loop: forecast and threshold orders worked, dispensers refilled.

A while after a sensor order of the demo site opens for restroom dispensers (cleaning) or
failed corridor lamps (engineering), the crew dispatches, arrives and resolves it, as the
hub's own moves. A resolved dispenser order makes the simulated dispensers refill (a
`refilled` event and full levels, `devices/restroom.py`); a resolved lamp order takes its
lamps from the parts store (the `parts` reaction to an order's move). The demo seeds the lamp
shelf so that, with three months of failures behind it, its reorder comes due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devices.base import SimDevice
from hub.alarms.models import Alarm
from hub.clock import Clock
from hub.db import session_scope
from hub.parts import service as parts
from hub.parts.enums import MoveReason
from hub.parts.models import Part
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.settings import Settings
from hub.workorders import service as orders
from hub.workorders.enums import Source, Status
from hub.workorders.models import WorkOrder
from hub.workorders.policy import SlaPolicy

logger = logging.getLogger(__name__)

CREW = {DeviceKind.restroom: "clean-zhao", DeviceKind.light: "eng-wang"}
WORK_AFTER = timedelta(seconds=90)
"""How long after an order opens the demo's crew has it resolved."""
LAMP = ("LED灯管 T8 18W", "LED tube T8 18W")
LAMP_HISTORY_DAYS = 90
LAMP_FAILURES_PER_WEEK = 10
LAMP_STOCK = 30
LAMP_LEAD_DAYS = 14


DEMO_RULES = """# Written by `fhub demo` (no rules file given): the demo's clock runs fast.
# Its dispensers empty within an hour or so, so the forecast order opens 40 minutes ahead
# (the cleaning SLA's 30 minutes + 10) rather than the 8 hours of a real site.
[sites.{site}.restroom.supplies_forecast]
lead_min = 10
gather_h = 1
"""


def demo_settings(settings: Settings, site_id: str) -> Settings:
    """The demo's settings: its own rules file (a short forecast lead) and a faster pass.

    Only what the configuration leaves unset: a rules file or a forecast period given by the
    user stays as given.
    """
    update: dict[str, object] = {}
    if settings.rules_file is None:
        path = settings.data_dir / "demo-rules.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DEMO_RULES.format(site=site_id), encoding="utf-8")
        update["rules_file"] = path
    if "forecast_check_seconds" not in settings.model_fields_set:
        update["forecast_check_seconds"] = 30
    return settings.model_copy(update=update)


def seed_lamps(*, session: Session, site_id: str, now: datetime) -> Part | None:
    """The site's lamp shelf with three months of use behind it, unless it exists already."""
    name, name_en = LAMP
    if session.scalar(select(Part).where(Part.site_id == site_id, Part.name == name)):
        return None
    start = now - timedelta(days=LAMP_HISTORY_DAYS)
    part = parts.create_part(
        session=session,
        site_id=site_id,
        name=name,
        name_en=name_en,
        unit="支",
        stock=0,
        min_stock=5,
        lead_days=LAMP_LEAD_DAYS,
        device_kind=DeviceKind.light,
        actor="demo",
        now=start,
    )
    used = LAMP_HISTORY_DAYS * LAMP_FAILURES_PER_WEEK // 7
    parts.move(
        session=session,
        part=part,
        delta=LAMP_STOCK + used,
        reason=MoveReason.received,
        actor="demo",
        now=start,
        note="opening stock",
    )
    for n in range(used):
        at = start + timedelta(days=LAMP_HISTORY_DAYS * (n + 0.5) / used)
        parts.move(
            session=session, part=part, delta=-1, reason=MoveReason.used, actor="demo", now=at
        )
    part.updated_at = now
    return part


class DemoCrew:
    """Resolves the demo site's dispenser and lamp orders a while after they open."""

    def __init__(self, sessions: sessionmaker[Session], *, site_id: str, policy: SlaPolicy) -> None:
        self.sessions = sessions
        self.site_id = site_id
        self.policy = policy

    def step(self, *, sims: Mapping[str, SimDevice], now: datetime) -> list[int]:
        """Work every order old enough; the ids resolved."""
        done: list[int] = []
        with session_scope(self.sessions) as session:
            due = session.scalars(
                select(WorkOrder).where(
                    WorkOrder.site_id == self.site_id,
                    WorkOrder.source == Source.sensor,
                    WorkOrder.status.in_([Status.open, Status.dispatched, Status.on_site]),
                    WorkOrder.created_at <= now - WORK_AFTER,
                )
            ).all()
            for order in due:
                kinds = dict(
                    session.execute(
                        select(Device.id, Device.kind)
                        .join(Alarm, Alarm.device_id == Device.id)
                        .where(Alarm.work_order_id == order.id)
                    ).all()
                )
                if not kinds or len(set(kinds.values())) != 1:
                    continue
                kind = next(iter(kinds.values()))
                if kind not in CREW:
                    continue
                self._work(session, order, CREW[DeviceKind(kind)], now)
                if kind == DeviceKind.restroom:
                    for device_id in kinds:
                        if device_id in sims:
                            sims[device_id].memory["refill"] = True
                done.append(order.id)
        return done

    def _work(self, session: Session, order: WorkOrder, worker: str, now: datetime) -> None:
        path = {
            Status.open: (Status.dispatched, Status.on_site, Status.resolved),
            Status.dispatched: (Status.on_site, Status.resolved),
            Status.on_site: (Status.resolved,),
        }[Status(order.status)]
        for to in path:
            orders.transition(
                session=session,
                policy=self.policy,
                order=order,
                to=to,
                actor=worker,
                now=now,
                assignee=worker if to == Status.dispatched else None,
                note="demo crew",
            )

    def run(self, sims: Mapping[str, SimDevice], clock: Clock, stop: threading.Event) -> None:
        """Work orders every 15 seconds until `stop`."""
        while not stop.wait(15):
            try:
                self.step(sims=sims, now=clock.now())
            except Exception:  # noqa: BLE001 - the demo's crew never stops the demo
                logger.exception("demo crew failed")
