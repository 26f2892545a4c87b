"""The `fhub` command line as an administrator uses it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from hub.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private SQLite database for the commands."""
    monkeypatch.setenv("FH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FH_LOG_LEVEL", "WARNING")
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("env")
def test_users_revoke_stops_a_token_and_users_tokens_lists_it() -> None:
    invoke("db", "upgrade")
    invoke("sites", "add", "--id", "sunshine-garden", "--name", "阳光花园")
    _code, token, _err = invoke(
        "users", "add", "--name", "desk-wu", "--role", "front_desk", "--site", "sunshine-garden"
    )
    code, out, _err = invoke("users", "tokens")
    assert (code, out.split("\t")[2:]) == (0, ["desk-wu", "active\n"])
    assert invoke("users", "revoke")[0] == 2
    assert invoke("users", "revoke", "--user", "nobody")[0] == 1
    code, out, _err = invoke("users", "revoke", "--user", "desk-wu")
    assert code == 0
    assert "revoked" in out
    assert token.strip() not in out
    assert invoke("users", "tokens")[1].split("\t")[3] == "revoked\n"


@pytest.mark.usefixtures("env")
def test_users_add_prints_the_token_alone() -> None:
    assert invoke("db", "upgrade")[0] == 0
    assert invoke("sites", "add", "--id", "sunshine-garden", "--name", "阳光花园")[0] == 0
    code, out, _err = invoke(
        "users", "add", "--name", "desk-li", "--role", "front_desk", "--site", "sunshine-garden"
    )
    assert code == 0
    assert out.count("\n") == 1
    assert out.startswith("fh_")
    assert len(out.strip()) > 40
    code, _out, err = invoke(
        "users", "add", "--name", "desk-li", "--role", "front_desk", "--site", "sunshine-garden"
    )
    assert code == 1
    assert "exists" in err
    code, _out, err = invoke(
        "users", "add", "--name", "x", "--role", "front_desk", "--site", "nowhere"
    )
    assert code == 1
    assert "unknown site" in err
    assert invoke("users", "add", "--name", "y", "--role", "janitor", "--site", "s")[0] == 2


@pytest.mark.usefixtures("env")
def test_devices_import_reports_every_bad_line(tmp_path: Path) -> None:
    invoke("db", "upgrade")
    invoke("sites", "add", "--id", "sunshine-garden", "--name", "阳光花园")
    bad = tmp_path / "devices.csv"
    bad.write_text(
        "id,site,kind\nlight-b1-f01,sunshine-garden,light\nBAD ID,sunshine-garden,lamp\n",
        encoding="utf-8",
    )
    code, out, err = invoke("devices", "import", str(bad))
    assert code == 1
    assert f"{bad}:line 3: id:" in err
    assert f"{bad}:line 3: kind:" in err
    assert "nothing imported" in err
    good = tmp_path / "good.csv"
    good.write_text("id,site,kind\nlight-b1-f01,sunshine-garden,light\n", encoding="utf-8")
    code, out, _err = invoke("devices", "import", str(good))
    assert code == 0
    assert "1 created" in out


def test_serve_refuses_the_demo_secret(env: Path) -> None:
    code, _out, err = invoke("serve", "--no-scheduler")
    assert code == 2
    assert "FH_TOKEN_PEPPER" in err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_shows_devices_alarms_and_sensor_orders_within_a_minute(tmp_path: Path) -> None:
    """`fhub demo` as a newcomer runs it: a real process, broker, simulators, real HTTP."""
    port = free_port()
    env = {
        **os.environ,
        "FH_DATA_DIR": str(tmp_path),
        "FH_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
    }
    fhub = Path(sys.executable).with_name("fhub")
    proc = subprocess.Popen(
        [str(fhub), "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, "fhub demo exited early"
            assert time.monotonic() < deadline, "fhub demo did not come up"
            time.sleep(0.3)
        desk = {"Authorization": "Bearer fh_demo_front_desk"}
        devices = httpx.get(f"{base}/api/v1/devices", headers=desk).json()
        assert len(devices) >= 3 * 18 * 2
        created = httpx.post(
            f"{base}/api/v1/work-orders",
            headers=desk,
            json={
                "site": "sunshine-garden",
                "title": "3号楼12层走廊灯不亮",
                "department": "engineering",
                "location": "3/12",
            },
        )
        assert created.status_code == 201
        listed = httpx.get(f"{base}/api/v1/work-orders", headers=desk).json()
        assert created.json()["id"] in [o["id"] for o in listed]
        assert httpx.get(f"{base}/api/v1/work-orders").status_code == 401

        engineer = {"Authorization": "Bearer fh_demo_engineer"}
        sensor_orders: list[dict[str, object]] = []
        while not sensor_orders:
            assert proc.poll() is None, "fhub demo exited"
            assert time.monotonic() < deadline + 60, "no sensor order within a minute"
            time.sleep(1)
            sensor_orders = httpx.get(
                f"{base}/api/v1/work-orders?source=sensor", headers=engineer
            ).json()
        assert sensor_orders[0]["alarm_ids"]
        alarms = httpx.get(f"{base}/api/v1/alarms", headers=engineer).json()
        assert {a["id"] for a in alarms} >= set(sensor_orders[0]["alarm_ids"])
        online = [
            d
            for d in httpx.get(f"{base}/api/v1/devices", headers=engineer).json()
            if d["status"] == "online"
        ]
        assert online
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert "fh_demo_front_desk" in out
    assert "sunshine-garden" in out
