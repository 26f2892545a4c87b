"""The demo site with its faults played, served live, for tests that read every page.

`demo_hub(engine, broker, root)` runs what `fhub demo` runs (the demo's site, devices,
owners and users; the bridge with its sinks on the embedded broker; the API and pages on a
loopback port) and then plays the demo's faults through MQTT as the simulators would: a
pipe-well leak, a paper box run empty (and the cleaner's patrol log saying it was fine), a
jammed barrier gate, a failed lamp; the desk registers owners' complaints at those places;
an engineer takes the leak's order and puts the gate's on hold; the scheduler's watchdog and
the desk's reactions run once. `DemoHub.ids` names the objects a page path may refer to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bridges.broker import EmbeddedBroker
from bridges.live import live_sink
from bridges.mqtt import Bridge, new_client_id
from bridges.reactions import desk_reactions
from hub import migrate
from hub.alarms.models import Alarm
from hub.alarms.rules import RuleBook
from hub.app import create_app
from hub.clock import SystemClock
from hub.correlation.flows import Policies
from hub.db import session_factory, session_scope
from hub.demo import DEMO_SITE, DEMO_USERS, DemoPatrol, seed_demo
from hub.scheduler import correlation_watch, sla_watchdog
from hub.settings import Settings
from hub.wiring import wire
from tests.bridges.conftest import Publisher, free_port, wait_for

TOKENS: dict[str, str] = {}
for _name, _role, _token in DEMO_USERS:  # the first user of each role signs in as it
    TOKENS.setdefault(str(_role), _token)
TOKENS["engineering_head"] = "fh_demo_engineering_head"
"""Role → the demo's token of that role."""
LEAK, PAPER, GATE, LIGHT = "leak-b1-f18", "restroom-club-2f-men", "gate-north", "light-b2-f05"


@dataclass
class DemoHub:
    """The running demo: where it listens, its tokens by role, the objects pages name."""

    base: str
    tokens: dict[str, str]
    ids: dict[str, object]
    sessions: sessionmaker[Session]


def _publish(publisher: Publisher, kind: str, device: str, payload: dict[str, Any]) -> None:
    publisher.publish(f"fh/{DEMO_SITE}/{kind}/{device}/telemetry", payload)


def _alarm_on(sessions: sessionmaker[Session], device: str) -> Callable[[], bool]:
    def check() -> bool:
        with sessions() as session:
            found = session.scalar(
                select(Alarm.id).where(
                    Alarm.device_id == device,
                    Alarm.cleared_at.is_(None),
                    Alarm.work_order_id.is_not(None),
                )
            )
            return found is not None

    return check


def _play_faults(hub: DemoHub, publisher: Publisher, settings: Settings) -> None:
    """The simulators' faults, the patrol's false entry, the watchdogs once."""
    _publish(publisher, "leak", LEAK, {"leak": True, "flow_lpm": 6.5, "battery": 88})
    _publish(publisher, "restroom", PAPER, {"paper_pct": 60, "soap_pct": 70, "towel_pct": 50})
    _publish(publisher, "gate", GATE, {"arm": "down", "loop_occupied": False, "fault": "E07"})
    _publish(publisher, "light", LIGHT, {"on": True, "power_w": 0.0, "lux": 3})
    time.sleep(0.5)
    _publish(publisher, "restroom", PAPER, {"paper_pct": 0, "soap_pct": 68, "towel_pct": 50})
    for device in (LEAK, GATE):
        assert wait_for(_alarm_on(hub.sessions, device), 20), f"no alarm on {device}"
    assert wait_for(_alarm_on(hub.sessions, PAPER), 20), "no alarm on the paper box"
    patrol = DemoPatrol(hub.sessions, zone=settings.zone, rules=RuleBook())
    assert wait_for(
        lambda: bool(
            patrol.check(faulted=[PAPER], now=SystemClock().now() + timedelta(seconds=31))
        ),
        20,
    )


def _api(hub: DemoHub, role: str, method: str, path: str, body: Any = None) -> Any:
    answer = httpx.request(
        method,
        f"{hub.base}/api/v1{path}",
        headers={"Authorization": f"Bearer {hub.tokens[role]}"},
        json=body,
        timeout=30,
    )
    assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json()


def _desk_and_field(hub: DemoHub) -> None:
    """Owners' complaints at the faults' places; the engineer's and guard's moves."""
    now = SystemClock().now()
    leak = _api(
        hub, "front_desk", "POST", "/complaints",
        {"content": "1号楼18层管井漏水,楼道里都是水", "location": "1/18", "channel": "phone",
         "complainant_name": "王女士", "complainant_phone": "13800000001", "unit": "1/18/1801"},
    )  # fmt: skip
    paper = _api(
        hub, "front_desk", "POST", "/complaints",
        {"content": "会所2楼男卫生间没有纸了", "location": "clubhouse/2/men-restroom"},
    )  # fmt: skip
    _api(
        hub, "front_desk", "POST", "/complaints",
        {"content": "北门道闸抬不起来,车排长队", "location": "north-gate", "channel": "visit",
         "received_at": (now - timedelta(days=2)).isoformat()},
    )  # fmt: skip
    _api(
        hub, "front_desk", "POST", f"/complaints/{leak['id']}/replies",
        {"text": "已安排工程部处理,请您放心", "channel": "phone"},
    )  # fmt: skip
    orders = {o["device_id"]: o for o in _api(hub, "manager", "GET", "/work-orders?limit=50")}
    leak_order, gate_order = orders[LEAK], orders[GATE]
    _api(
        hub, "engineer", "POST", f"/work-orders/{leak_order['id']}/transitions",
        {"to": "dispatched", "assignee": "eng-wang"},
    )  # fmt: skip
    _api(
        hub, "engineer", "POST", f"/work-orders/{gate_order['id']}/transitions",
        {"to": "dispatched", "assignee": "eng-wang"},
    )  # fmt: skip
    _api(hub, "engineer", "POST", f"/work-orders/{gate_order['id']}/transitions", {"to": "on_site"})
    _api(
        hub, "engineer", "POST", f"/work-orders/{gate_order['id']}/transitions",
        {"to": "on_hold", "note": "等待道闸电机配件"},
    )  # fmt: skip
    routes = _api(hub, "cleaner", "GET", "/inspections/routes")
    hub.ids.update(
        complaint=leak["id"], paper_complaint=paper["id"], leak_order=leak_order["id"],
        gate_order=gate_order["id"], checkpoint=routes[0]["checkpoints"][0]["id"],
    )  # fmt: skip


@contextmanager
def demo_hub(engine: Engine, broker: EmbeddedBroker, root: Path) -> Iterator[DemoHub]:
    """The demo on `engine`, served live, with its faults played."""
    migrate.upgrade(engine)
    settings = Settings(  # type: ignore[call-arg]
        data_dir=root,
        mqtt_url=f"mqtt://{broker.host}:{broker.port}",  # type: ignore[arg-type]
        mqtt_protocol="3.1.1",
        stream_ping_seconds=1,
    )
    sessions = wire(session_factory(engine), settings=settings, clock=SystemClock())
    with session_scope(sessions) as session:
        seed_demo(
            session=session,
            now=SystemClock().now(),
            pepper=settings.token_pepper.get_secret_value(),
        )
    bridge = Bridge(
        settings, sessions, client_id=new_client_id("demo"), topics=[f"fh/{DEMO_SITE}/+/+/+"]
    )
    bridge.add_sink("desk", desk_reactions(sessions, Policies(), SystemClock()))
    bridge.add_sink("live", live_sink(sessions, SystemClock()))
    bridge.start()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine=engine), host="127.0.0.1", port=free_port(),
            log_level="warning", timeout_graceful_shutdown=1,
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, name="demo-hub", daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, 20), "uvicorn did not start"
    assert bridge.wait_subscribed()
    publisher = Publisher(broker.host, broker.port)
    port = server.config.port
    hub = DemoHub(f"http://127.0.0.1:{port}", dict(TOKENS), {}, sessions)
    hub.ids.update(
        leak=LEAK, paper=PAPER, gate=GATE, light=LIGHT, leak_place="1/18", site=DEMO_SITE
    )
    try:
        _play_faults(hub, publisher, settings)
        _desk_and_field(hub)
        clock = SystemClock()
        correlation_watch(sessions, clock, Policies())
        sla_watchdog(sessions, clock, settings.zone)
        yield hub
    finally:
        publisher.close()
        server.should_exit = True
        thread.join(10)
        bridge.stop()
