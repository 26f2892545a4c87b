"""`fhub broker credentials | logins | revoke | acl`: issued once, kept hashed, refusals clear."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hub import migrate
from hub.cli import app
from hub.clock import ManualClock
from hub.db import make_engine, session_factory
from hub.registry.enums import Adapter, DeviceKind
from hub.registry.models import BrokerCredential
from hub.registry.passwords import verify_password
from hub.registry.service import add_device
from tests.pipeline import register

SITE = "cli-site"


@pytest.fixture
def url(tmp_path: Path) -> str:
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(database)
    migrate.upgrade(engine)
    clock = ManualClock()
    with session_factory(engine)() as session:
        register(session, clock, SITE, [("leak-a", DeviceKind.leak, None)])
        add_device(
            session=session,
            device_id="leak-z",
            site_id=SITE,
            kind=DeviceKind.leak,
            now=clock.now(),
            adapter=Adapter.zigbee2mqtt,
            external_id="z",
        )
        register(session, clock, "cli-other", [])
        add_device(
            session=session,
            device_id="light-s",
            site_id="cli-other",
            kind=DeviceKind.light,
            now=clock.now(),
            adapter=Adapter.tasmota,
            external_id="corridor 3",
        )
        session.commit()
    return database


def _run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["broker", *args], env={"FH_DATABASE_URL": url})
    return result.exit_code, result.stdout, result.stderr


def test_a_password_is_shown_once_and_kept_only_as_its_hash(url: str) -> None:
    code, out, err = _run(url, "credentials", "--device", "leak-a")
    assert code == 0, err
    username, password = out.strip().split(",")
    assert username == "leak-a"
    assert "not kept" in err
    with session_factory(make_engine(url))() as session:
        stored = session.scalars(select(BrokerCredential)).one()
    assert password not in stored.password_hash
    assert stored.password_hash.startswith("$7$")
    assert verify_password(password, stored.password_hash)
    code, out, _err = _run(url, "logins")
    assert out.split() == ["leak-a", "device", "leak-a"]
    assert password not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("credentials", "--device", "nobody"), "not found"),
        (("credentials", "--device", "leak-z"), "gateway"),
        (("credentials", "--device", "light-s"), "spaces"),
        (("credentials", "--integration", "bad name"), "username"),
        (("credentials", "--integration", "a\x00b"), "username"),
        (("credentials", "--integration", "x" * 65), "username"),
        (("credentials", "--integration", "has:colon"), "username"),
        (("credentials",), "--device"),
        (("revoke", "nobody"), "no broker credential"),
    ],
)
def test_refusals_say_why_and_issue_nothing(url: str, args: tuple[str, ...], message: str) -> None:
    code, out, err = _run(url, *args)
    assert code != 0
    assert message in err
    assert out == ""
    with session_factory(make_engine(url))() as session:
        assert session.scalars(select(BrokerCredential)).all() == []


def test_a_login_is_replaced_only_when_rotated(url: str) -> None:
    assert _run(url, "credentials", "--device", "leak-a")[0] == 0
    code, _out, err = _run(url, "credentials", "--device", "leak-a")
    assert code == 1
    assert "rotate" in err
    code, out, _err = _run(url, "credentials", "--device", "leak-a", "--rotate")
    assert code == 0
    new = out.strip().split(",")[1]
    with session_factory(make_engine(url))() as session:
        assert verify_password(new, session.scalars(select(BrokerCredential)).one().password_hash)


def test_the_site_option_skips_devices_with_a_login_and_zigbee_devices(url: str) -> None:
    assert _run(url, "credentials", "--device", "leak-a")[0] == 0
    code, out, err = _run(url, "credentials", "--site", SITE, "--gateway", "z2m-gw")
    assert code == 0, err
    assert [line.split(",")[0] for line in out.splitlines()] == ["z2m-gw"]


def test_acl_writes_both_files(url: str, tmp_path: Path) -> None:
    _run(url, "credentials", "--device", "leak-a")
    _run(url, "credentials", "--bridge")
    out = tmp_path / "deploy"
    code, _out, err = _run(url, "acl", "--format", "mosquitto", "--out", str(out))
    assert code == 0, err
    passwd = (out / "passwd").read_text()
    assert [line.split(":")[0] for line in passwd.splitlines()] == ["fhub-bridge", "leak-a"]
    acl = (out / "acl").read_text()
    assert f"user leak-a\ntopic write fh/{SITE}/leak/leak-a/#\n" in acl
    assert "user fhub-bridge\n" in acl
    assert not list(out.glob(".*partial"))
    code, _out, err = _run(url, "acl", "--format", "emqx", "--out", str(out))
    assert code == 2
