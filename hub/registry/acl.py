"""Who may use which broker topics: one policy, written for Mosquitto and enforced in amqtt.

| login | publish | subscribe (and receive) |
|---|---|---|
| device | `fh/{site}/{kind}/{device}/#` | `fh/{site}/{kind}/{device}/cmd` |
| Tasmota device | `tele/{t}/#`, `stat/{t}/#` | `cmnd/{t}/#` |
| zigbee2mqtt gateway | `{base}/#` | `{base}/#` |
| bridge (the hub) | `fh/+/hub/#`, `fh/+/+/+/cmd` | `fh/#` and the adapters' roots |
| integration | — | `fh/+/hub/#` |

A device can thus neither report for another device nor read another's commands; the
hub's change events reach integrations and nobody can forge them but the hub.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hub.registry.enums import Adapter, BrokerRole
from hub.registry.passwords import verify_password

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""A login name: safe in Mosquitto's password file (no `:`) and ACL (no spaces)."""

BRIDGE_PUBLISHES = ("fh/+/hub/#", "fh/+/+/+/cmd")
BRIDGE_READS = ("fh/#",)
INTEGRATION_READS = ("fh/+/hub/#",)


@dataclass(frozen=True)
class Login:
    """A broker credential with what its topics depend on."""

    username: str
    role: BrokerRole
    password_hash: str
    site: str | None = None
    kind: str | None = None
    device: str | None = None
    adapter: Adapter | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class Grant:
    """The topic filters one login may publish to and subscribe to."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def grant(
    login: Login, *, bridge_reads: Sequence[str] = (), gateway_base: str = "zigbee2mqtt"
) -> Grant:
    """What `login` may do; `bridge_reads` are the adapters' roots the hub subscribes to."""
    if login.role == BrokerRole.bridge:
        return Grant(BRIDGE_PUBLISHES, tuple(dict.fromkeys((*BRIDGE_READS, *bridge_reads))))
    if login.role == BrokerRole.integration:
        return Grant((), INTEGRATION_READS)
    if login.role == BrokerRole.gateway:
        return Grant((f"{gateway_base}/#",), (f"{gateway_base}/#",))
    if login.adapter == Adapter.tasmota and login.external_id:
        t = login.external_id
        return Grant((f"tele/{t}/#", f"stat/{t}/#"), (f"cmnd/{t}/#",))
    own = f"fh/{login.site}/{login.kind}/{login.device}"
    return Grant((f"{own}/#",), (f"{own}/cmd",))


def covers(allowed: str, wanted: str) -> bool:
    """Whether the filter `allowed` includes every topic the filter (or topic) `wanted` does."""
    have, want = allowed.split("/"), wanted.split("/")
    for n, level in enumerate(have):
        if level == "#":
            return True
        if n >= len(want):
            return False
        if level == "+":
            if want[n] == "#":
                return False
            continue
        if want[n] != level:
            return False
    return len(want) == len(have)


def permits(filters: Iterable[str], topic: str) -> bool:
    """Whether any of `filters` covers `topic` (a topic name or a subscription filter).

    Topics starting with `$` (`$SYS/...`) are matched by no wildcard at their first level,
    as MQTT has it.
    """
    for allowed in filters:
        if topic.startswith("$") and allowed[:1] in ("+", "#"):
            continue
        if covers(allowed, topic):
            return True
    return False


def shared(topic: str) -> str:
    """A shared subscription's filter without its `$share/{group}/` prefix."""
    if topic.startswith("$share/"):
        parts = topic.split("/", 2)
        return parts[2] if len(parts) == 3 else ""
    return topic


class Policy:
    """Every login's password hash and topics, as the embedded broker checks them."""

    def __init__(
        self,
        logins: Sequence[Login],
        *,
        bridge_reads: Sequence[str] = (),
        gateway_base: str = "zigbee2mqtt",
    ) -> None:
        self._hashes = {login.username: login.password_hash for login in logins}
        self._grants = {
            login.username: grant(login, bridge_reads=bridge_reads, gateway_base=gateway_base)
            for login in logins
        }

    def authenticate(self, username: str | None, password: str | None) -> bool:
        """Whether a CONNECT with these credentials is let in (never anonymously)."""
        if not username or password is None:
            return False
        encoded = self._hashes.get(username)
        return encoded is not None and verify_password(password, encoded)

    def may_publish(self, username: str | None, topic: str) -> bool:
        """Whether `username` may publish on the topic name `topic`."""
        rules = self._grants.get(username or "")
        return rules is not None and permits(rules.publish, topic)

    def may_subscribe(self, username: str | None, topic_filter: str) -> bool:
        """Whether `username` may subscribe to `topic_filter` (a shared one by its filter)."""
        rules = self._grants.get(username or "")
        return rules is not None and permits(rules.subscribe, shared(topic_filter))


def mosquitto_passwd(logins: Sequence[Login]) -> str:
    """The password file: `username:$7$...` per line, sorted."""
    return "".join(
        f"{login.username}:{login.password_hash}\n" for login in sorted(logins, key=_name)
    )


def mosquitto_acl(
    logins: Sequence[Login], *, bridge_reads: Sequence[str] = (), gateway_base: str = "zigbee2mqtt"
) -> str:
    """The ACL file: a `user` block per login with its `topic read|write` lines."""
    lines = [
        "# facility-hub broker ACL, written by `fhub broker acl`: regenerate it, do not edit.",
        "# Anonymous clients and unknown users get nothing.",
        "",
    ]
    for login in sorted(logins, key=_name):
        rules = grant(login, bridge_reads=bridge_reads, gateway_base=gateway_base)
        lines.append(f"user {login.username}")
        both = set(rules.publish) & set(rules.subscribe)
        lines += [f"topic readwrite {t}" for t in rules.publish if t in both]
        lines += [f"topic write {t}" for t in rules.publish if t not in both]
        lines += [f"topic read {t}" for t in rules.subscribe if t not in both]
        lines.append("")
    return "\n".join(lines)


def _name(login: Login) -> str:
    return login.username
