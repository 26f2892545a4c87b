"""The broker policy alone: `$7$` hashes, topic grants, filter coverage, Mosquitto's files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.registry.acl import (
    Login,
    Policy,
    covers,
    grant,
    mosquitto_acl,
    mosquitto_passwd,
    permits,
)
from hub.registry.enums import Adapter, BrokerRole
from hub.registry.passwords import hash_password, verify_password
from tests.services import unavailable

FAST = 101  # mosquitto_passwd's own count: enough to test the format, quick to compute


def _device(name: str, site: str = "s1", kind: str = "leak") -> Login:
    return Login(name, BrokerRole.device, hash_password("pw", iterations=FAST), site, kind, name)


@pytest.mark.parametrize(
    ("allowed", "wanted", "expected"),
    [
        ("fh/#", "fh/s/leak/d/telemetry", True),
        ("fh/#", "fh", True),
        ("fh/#", "fh/+/+/+/+", True),
        ("fh/s/leak/d/#", "fh/s/leak/d/telemetry", True),
        ("fh/s/leak/d/#", "fh/s/leak/e/telemetry", False),
        ("fh/s/leak/d/cmd", "fh/s/leak/d/cmd", True),
        ("fh/s/leak/d/cmd", "fh/s/leak/d/#", False),
        ("fh/s/leak/d/cmd", "fh/s/leak/+/cmd", False),
        ("fh/+/hub/#", "fh/s/hub/notice", True),
        ("fh/+/hub/#", "fh/+/hub/#", True),
        ("fh/+/hub/#", "fh/#", False),
        ("fh/+/hub/#", "fh/s/leak/d/telemetry", False),
        ("fh/+/+/+/cmd", "fh/s/leak/d/cmd", True),
        ("fh/+/+/+/cmd", "fh/s/leak/d/telemetry", False),
        ("a/b", "a/b/c", False),
        ("a/b/c", "a/b", False),
    ],
)
def test_a_filter_covers_what_it_matches(allowed: str, wanted: str, expected: bool) -> None:
    assert covers(allowed, wanted) is expected


def test_wildcards_do_not_reach_dollar_topics() -> None:
    assert not permits(["#"], "$SYS/broker/uptime")
    assert not permits(["+/broker/uptime"], "$SYS/broker/uptime")


def test_each_role_gets_its_topics() -> None:
    device = grant(_device("leak-a"))
    assert device.publish == ("fh/s1/leak/leak-a/#",)
    assert device.subscribe == ("fh/s1/leak/leak-a/cmd",)
    tasmota = Login("t", BrokerRole.device, "", "s1", "light", "light-a", Adapter.tasmota, "corr")
    assert grant(tasmota).publish == ("tele/corr/#", "stat/corr/#")
    assert grant(tasmota).subscribe == ("cmnd/corr/#",)
    bridge = grant(Login("fhub-bridge", BrokerRole.bridge, ""), bridge_reads=("zigbee2mqtt/#",))
    assert bridge.subscribe == ("fh/#", "zigbee2mqtt/#")
    assert "fh/+/hub/#" in bridge.publish
    assert grant(Login("erp", BrokerRole.integration, "")).subscribe == ("fh/+/hub/#",)
    assert grant(Login("erp", BrokerRole.integration, "")).publish == ()
    assert grant(Login("gw", BrokerRole.gateway, ""), gateway_base="z2m").publish == ("z2m/#",)


def test_the_policy_holds_a_device_to_its_own_topics() -> None:
    policy = Policy([_device("leak-a"), _device("leak-b")])
    assert policy.authenticate("leak-a", "pw")
    assert not policy.authenticate("leak-a", "wrong")
    assert not policy.authenticate("nobody", "pw")
    assert not policy.authenticate(None, None)
    assert not policy.authenticate("leak-a", None)
    assert policy.may_publish("leak-a", "fh/s1/leak/leak-a/telemetry")
    assert not policy.may_publish("leak-a", "fh/s1/leak/leak-b/telemetry")
    assert not policy.may_publish("nobody", "fh/s1/leak/leak-a/telemetry")
    assert policy.may_subscribe("leak-a", "fh/s1/leak/leak-a/cmd")
    assert not policy.may_subscribe("leak-a", "fh/s1/leak/leak-b/cmd")
    assert not policy.may_subscribe("leak-a", "#")


def test_a_shared_subscription_is_judged_by_its_filter() -> None:
    policy = Policy([Login("fhub-bridge", BrokerRole.bridge, "")])
    assert policy.may_subscribe("fhub-bridge", "$share/fhub/fh/+/+/+/+")
    assert not policy.may_subscribe("fhub-bridge", "$share/fhub/other/#")


def test_the_mosquitto_files() -> None:
    logins = [_device("leak-b"), _device("leak-a"), Login("erp", BrokerRole.integration, "$7$x")]
    passwd = mosquitto_passwd(logins)
    assert [line.split(":")[0] for line in passwd.splitlines()] == ["erp", "leak-a", "leak-b"]
    acl = mosquitto_acl(logins)
    block = acl.split("user leak-a\n")[1].split("\n\n")[0]
    assert block.splitlines() == [
        "topic write fh/s1/leak/leak-a/#",
        "topic read fh/s1/leak/leak-a/cmd",
    ]
    assert "user erp\ntopic read fh/+/hub/#\n" in acl


@settings(max_examples=25, deadline=None)
@given(password=st.text(max_size=40), other=st.text(max_size=40))
def test_any_password_verifies_against_its_own_hash_only(password: str, other: str) -> None:
    try:
        encoded = hash_password(password, iterations=FAST)
    except UnicodeEncodeError:  # a lone surrogate: not a password anyone can type
        return
    assert verify_password(password, encoded)
    assert verify_password(other, encoded) is (other == password)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "$6$abc$def",
        "$7$$a$b",
        "$7$101$!!!$AAAA",
        "$7$101$AAAA$!!!",
        "$7$99999999999$AA==$AA==",
        "$7$-1$AA==$AA==",
    ],
)
def test_a_malformed_hash_verifies_nothing(encoded: str) -> None:
    assert not verify_password("pw", encoded)


def test_hashes_of_mosquitto_passwd_verify_here(tmp_path: Path) -> None:
    """The format as Mosquitto's own tool writes it, read by the hub."""
    tool = Path("/usr/bin/mosquitto_passwd")
    if not tool.exists():
        unavailable("mosquitto_passwd", "the mosquitto package is not installed")
    path = tmp_path / "passwd"
    path.write_text("")
    subprocess.run([str(tool), "-b", str(path), "leak-a", "s3cret-ünï"], check=True)
    _user, encoded = path.read_text().strip().split(":", 1)
    assert encoded.startswith("$7$")
    assert verify_password("s3cret-ünï", encoded)
    assert not verify_password("s3cret", encoded)
