"""What an adapter is: a topic it recognises, and a payload it turns into the hub's reading.

An adapter is pure: no database, no broker. It names the external device a topic belongs
to (`match`) and, once the registry has said which hub device that is and of which kind,
rewrites the payload into the kind's telemetry or status (`translate`). The result then
goes through the hub's own decoder, so the same validation, rules, alarms and dead letters
apply to a zigbee2mqtt sensor as to a device speaking `fh/...` itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from devices.base import Reason, Rejected, load_object
from hub.registry.enums import Adapter, DeviceKind


@dataclass(frozen=True)
class Match:
    """A topic of an adapter's: which external device it is about, and what it says."""

    adapter: Adapter
    external_id: str
    part: str
    """What the topic carries, in the adapter's words (`state`, `availability`, `SENSOR`)."""
    ignored: bool = False
    """The adapter's own traffic, or commands to the device: nothing for the hub."""


@dataclass(frozen=True)
class Translated:
    """A payload in the hub's format for one of its channels."""

    channel: str
    payload: bytes
    fields: Mapping[str, Any] = field(default_factory=dict)
    """The telemetry's fields (empty for status)."""
    from_state: tuple[str, ...] = ()
    """Fields filled in provisionally: the device's merged state gives them at ingest."""

    @classmethod
    def telemetry(
        cls, fields: Mapping[str, Any], *, from_state: tuple[str, ...] = ()
    ) -> Translated:
        """Telemetry with these fields (`from_state`: the ones the message itself lacked)."""
        return cls("telemetry", orjson.dumps(dict(fields)), dict(fields), from_state)

    @classmethod
    def status(cls, online: bool) -> Translated:
        """An availability report."""
        return cls("status", b"online" if online else b"offline")


class PayloadAdapter(Protocol):
    """A third-party format the bridge reads."""

    name: Adapter

    def roots(self) -> tuple[str, ...]:
        """The topic filters the bridge subscribes to for this adapter."""
        ...

    def match(self, topic: str) -> Match | None:
        """The external device `topic` is about, or None when it is not this adapter's."""
        ...

    def translate(
        self, match: Match, payload: bytes, *, kind: DeviceKind, last: Mapping[str, Any]
    ) -> Translated:
        """The hub's reading for a registered device of `kind`, or `Rejected`.

        `last` is the device's merged state as the hub knows it: a format that reports a
        field the kind requires in another message (Tasmota's relay state and its power
        meter) fills it from there.
        """
        ...


def switch_state(value: Any, *, name: str) -> bool:
    """`ON`/`OFF` (any case, as Tasmota and zigbee2mqtt send it) as a bool, or `Rejected`."""
    if isinstance(value, str) and value.strip().upper() in ("ON", "OFF"):
        return value.strip().upper() == "ON"
    raise Rejected(Reason.invalid_payload, f"{name} must be ON or OFF")


def availability(payload: bytes, *, json_key: str | None = None) -> Translated:
    """Plain `online`/`offline` (any case), or a JSON object whose `json_key` says so."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise Rejected(Reason.bad_encoding, "payload is not UTF-8") from exc
    if json_key is not None and text.startswith("{"):
        text = str(load_object(payload).get(json_key, ""))
    word = text.strip().lower()
    if word not in ("online", "offline"):
        raise Rejected(Reason.bad_status, "availability must be online or offline")
    return Translated.status(word == "online")


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_name(name: str, *, what: str, longest: int) -> str:
    """An external id as a topic gives it, or `Rejected(bad_topic)`.

    MQTT forbids U+0000 in topics, but not every broker enforces it; neither it nor a lone
    surrogate can be stored in PostgreSQL text, let alone looked up in the registry.
    """
    if not name or len(name) > longest:
        raise Rejected(Reason.bad_topic, f"a {what} is 1 to {longest} characters")
    if _UNSTORABLE.search(name):
        raise Rejected(Reason.bad_topic, f"a {what} cannot hold U+0000 or a lone surrogate")
    return name


def unsupported(adapter: Adapter, kind: DeviceKind) -> Rejected:
    """The refusal for a device registered with a kind its adapter cannot speak for."""
    return Rejected(Reason.wrong_kind, f"a {adapter} device cannot be a {kind}")
