"""`fhub serve --workers 2` on the real Mosquitto and PostgreSQL: two processes share one
subscription; every message is stored once and every alarm opens one order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks.services import end_sessions
from hub import migrate
from hub.alarms.models import Alarm
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.signals.models import Signal
from hub.workorders.models import WorkOrder
from tests.bridges.conftest import Publisher, free_port, wait_for
from tests.pipeline import register, unique_site
from tests.services import postgres_database, require_mosquitto

pytestmark = [pytest.mark.postgres, pytest.mark.mosquitto, pytest.mark.timeout(180)]

DEVICES = 8
READINGS = 60


def _connected(log: Path) -> set[str]:
    text = log.read_text(encoding="utf-8", errors="replace")
    return set(re.findall(r"bridge (\S+) connected", text))


def _ready(port: int) -> dict[str, Any]:
    """The `workers` part of the serving process's /readyz (empty while it does not answer)."""
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return {}
    found: dict[str, Any] = body.get("workers", {})
    return found


def test_two_workers_store_each_message_once_and_open_one_order_per_alarm(
    tmp_path: Path,
) -> None:
    host, port = require_mosquitto()
    site = unique_site("workers")
    devices = [f"leak-{n}" for n in range(DEVICES)]
    with postgres_database() as engine:
        migrate.upgrade(engine)
        with Session(engine) as session:
            register(
                session,
                ManualClock(),
                site,
                [(d, DeviceKind.leak, f"{n}/1") for n, d in enumerate(devices)],
            )
            session.commit()
        url = engine.url.render_as_string(hide_password=False)
        log = tmp_path / "serve.log"
        env = {
            **os.environ,
            "FH_DATABASE_URL": url,
            "FH_MQTT_URL": f"mqtt://{host}:{port}",
            "FH_MQTT_SHARE_GROUP": f"g{site[-10:]}",
            "FH_TOKEN_PEPPER": "workers-test-pepper-0123456789",
            "FH_DATA_DIR": str(tmp_path),
        }
        api = free_port()
        command = [sys.executable, "-m", "hub.cli", "serve", "--no-scheduler", "--port", str(api)]
        with log.open("wb") as out:
            serve = subprocess.Popen([*command, "--workers", "2"], env=env, stderr=out)
        client_ids: set[str] = set()
        publisher = Publisher(host, port)
        try:
            assert wait_for(lambda: len(_connected(log)) == 2, timeout=60), log.read_text()
            client_ids = _connected(log)
            assert wait_for(lambda: len(_ready(api).get("each", [])) == 2, timeout=30)
            workers = _ready(api)
            assert (workers["state"], workers["running"], workers["wanted"]) == ("ok", 2, 2)
            assert [w["influx"]["state"] for w in workers["each"]] == ["off", "off"]
            metrics = httpx.get(f"http://127.0.0.1:{api}/metrics", timeout=5).text
            assert "fhub_workers_running 2" in metrics
            time.sleep(1.0)  # both have subscribed to the group
            for n in range(READINGS):
                device = devices[n % DEVICES]
                body = {"id": f"r{n}", "leak": False, "battery": 90}
                publisher.publish(f"fh/{site}/leak/{device}/telemetry", body)
            for device in devices:  # a leak, its redelivery, and a second reading of it
                topic = f"fh/{site}/leak/{device}/telemetry"
                publisher.publish(topic, {"id": f"leak-{device}", "leak": True, "battery": 90})
                publisher.publish(topic, {"id": f"leak-{device}", "leak": True, "battery": 90})
                publisher.publish(topic, {"id": f"again-{device}", "leak": True, "battery": 89})
            expected = READINGS + 2 * DEVICES

            def stored() -> int:
                with Session(engine) as session:
                    query = select(func.count()).where(Signal.site_id == site)
                    return int(session.scalar(query.select_from(Signal)) or 0)

            assert wait_for(lambda: stored() == expected, timeout=60)
            time.sleep(1.0)  # nothing more arrives
            assert stored() == expected
        finally:
            publisher.close()
            serve.terminate()
            serve.wait(timeout=60)
            if client_ids:
                end_sessions(port, sorted(client_ids), "5")
        with Session(engine) as session:
            keys = session.execute(
                select(Signal.device_id, Signal.idem_key).where(Signal.site_id == site)
            ).all()
            assert len(keys) == len(set(keys)) == expected
            alarms = session.scalars(select(Alarm).where(Alarm.site_id == site)).all()
            orders = session.scalars(select(WorkOrder).where(WorkOrder.site_id == site)).all()
        assert sorted(a.device_id for a in alarms) == sorted(devices)
        assert all(a.type == "leak_detected" for a in alarms)
        assert len({a.work_order_id for a in alarms}) == DEVICES
        assert sorted(o.device_id or "" for o in orders) == sorted(devices)
    assert serve.returncode == 0
    assert len(client_ids) == 2


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_workers_do_not_outlive_a_killed_supervisor(tmp_path: Path) -> None:
    host, port = require_mosquitto()
    with postgres_database() as engine:
        migrate.upgrade(engine)
        env = {
            **os.environ,
            "FH_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "FH_MQTT_URL": f"mqtt://{host}:{port}",
            "FH_MQTT_SHARE_GROUP": f"g{unique_site('kill')[-10:]}",
            "FH_TOKEN_PEPPER": "workers-test-pepper-0123456789",
            "FH_DATA_DIR": str(tmp_path),
        }
        log = tmp_path / "serve.log"
        command = [sys.executable, "-m", "hub.cli", "serve", "--no-api", "--no-scheduler"]
        with log.open("wb") as out:
            serve = subprocess.Popen([*command, "--workers", "2"], env=env, stderr=out)
        client_ids: set[str] = set()
        try:
            assert wait_for(lambda: len(_connected(log)) == 2, timeout=60), log.read_text()
            client_ids = _connected(log)
            workers = _children(serve.pid)
            assert len(workers) == 2
            serve.kill()  # no chance to clean up
            serve.wait(timeout=10)
            assert wait_for(lambda: not any(_alive(p) for p in workers), timeout=30)
        finally:
            if serve.poll() is None:
                serve.kill()
            if client_ids:
                end_sessions(port, sorted(client_ids), "5")
