"""A hostile MQTT corpus through the real bridge, on Mosquitto, SQLite and PostgreSQL.

The contract's malformed messages, the ones that used to stop or stall ingest (a NUL byte,
timestamps past year 9999 in UTC, deep nesting, huge integers), retained junk replayed on
every reconnect, and a few hundred generated ones. Every bad message must end up as a dead
letter with its own reason, every valid one as a signal, none as `internal_error`.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bridges.mqtt import Bridge, new_client_id
from devices import SPECS
from devices.base import MAX_KEYS, MAX_PAYLOAD_BYTES, Rejected, decode
from hub.clock import ManualClock
from hub.db import session_factory
from hub.registry.enums import DeviceKind
from hub.settings import Settings
from hub.signals.models import DeadLetter, Signal
from hub.signals.service import message_digest
from tests.bridges.conftest import Publisher, forget_session, wait_for
from tests.devices.test_payloads import ACCEPTED
from tests.pipeline import register, unique_site
from tests.services import require_mosquitto

pytestmark = pytest.mark.mosquitto


@dataclass(frozen=True)
class Case:
    """One message: where it goes, what it holds, what must become of it (None: a signal)."""

    topic: str
    payload: bytes
    reason: str | None
    retain: bool = False


DEVICES = {"leak": "leak-1", "light": "light-1", "gate": "gate-1", "restroom": "wc-1"}


def _nested(depth: int) -> bytes:
    return b'{"leak": false, "x": ' + b"[" * depth + b"]" * depth + b"}"


def _fixed(site: str) -> list[Case]:
    """The contract's malformed list and the messages that broke ingest before."""
    t = f"fh/{site}/leak/leak-1/telemetry"
    keys = b", ".join(b'"k%d": %d' % (n, n) for n in range(MAX_KEYS + 1))
    return [
        Case(f"fh/{site}/toaster/leak-1/telemetry", b'{"leak": true}', "bad_topic"),
        Case(f"fh/{site}/leak/Leak-1/telemetry", b'{"leak": true}', "bad_topic"),
        Case(f"fh/{site}/leak/leak-1/cmd", b'{"leak": true}', "bad_topic"),
        Case(f"fh/{site}/leak/nosuchdev/telemetry", b'{"leak": true}', "unknown_device"),
        Case(f"fh/{site}/leak/nosuchdev/telemetry", b"x\x00", "unknown_device"),
        Case(f"fh/{site}/leak/elsewhere-1/telemetry", b'{"leak": true}', "wrong_site"),
        Case(f"fh/{site}/light/leak-1/telemetry", b'{"on": true}', "wrong_kind"),
        Case(t, b'{"leak": false, "x": "' + b"y" * MAX_PAYLOAD_BYTES + b'"}', "too_large"),
        Case(t, b'{"leak": \xff}', "bad_encoding"),
        Case(t, b"x\x00", "bad_json"),
        Case(t, b"{broken", "bad_json"),
        Case(t, b"[1, 2]", "not_object"),
        Case(t, b'{"battery": 40}', "invalid_payload"),
        Case(f"fh/{site}/leak/leak-1/event", b'{"type": "explode"}', "unknown_event"),
        Case(t, b'{"leak": false, "ts": "yesterday"}', "bad_timestamp"),
        Case(t, b'{"leak": false, "ts": "2099-01-01T00:00:00Z"}', "future_timestamp"),
        Case(f"fh/{site}/leak/leak-1/status", b"dozing", "bad_status"),
        Case(t, b'{"leak": false, "ts": "9999-12-31T23:59:59-14:00"}', "timestamp_out_of_range"),
        Case(t, b'{"leak": false, "ts": "0001-01-01T00:00:00+14:00"}', "timestamp_out_of_range"),
        Case(t, _nested(300), "too_deep"),
        Case(t, _nested(254), "too_deep"),
        Case(t, _nested(252), "too_deep"),
        Case(t, b'{"leak": false, ' + keys + b"}", "too_many_keys"),
        Case(t, b'{"leak": false, "n": %d}' % 2**70, "number_out_of_range"),
        Case(t, b'{"leak": false, "n": %d}' % -(2**70), "number_out_of_range"),
        Case(t, b'{"leak": false, "s": "a\\u0000b"}', "nul_character"),
        Case(t, b'{"leak": false, "\\u0000": 1}', "nul_character"),
        Case(t, b'{"id": "ok-1", "leak": false, "n": %d}' % (2**63 - 1), None),
        Case(t, b'{"id": "ok-2", "leak": false, "s": "a\\\\u0000b"}', None),
    ]


def _accepted(site: str) -> list[Case]:
    """The contract's examples of valid payloads, one of each."""
    cases = []
    for n, (kind, channel, doc) in enumerate(ACCEPTED):
        body = orjson.dumps({"id": f"accepted-{n}", **doc})
        cases.append(Case(f"fh/{site}/{kind}/{DEVICES[kind]}/{channel}", body, None))
    return cases


def _generated(site: str, count: int, seed: int = 20261201) -> list[Case]:
    """Valid readings mangled at random; the decoder (tested on its own) says what is due."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    cases = []
    for n in range(count):
        kind = rng.choice(sorted(DEVICES))
        channel = rng.choice(["telemetry", "telemetry", "event"])
        doc = dict(rng.choice([d for k, c, d in ACCEPTED if k == kind and c == channel] or [{}]))
        doc["id"] = f"gen-{n}"
        body = bytearray(orjson.dumps(doc))
        for _ in range(rng.randint(0, 3)):
            action = rng.randrange(5)
            at = rng.randrange(len(body) + 1)
            if action == 0 and body:
                del body[at : at + rng.randint(1, 4)]
            elif action == 1:
                body[at:at] = bytes([rng.randrange(256)])
            elif action == 2:
                body[at:at] = rng.choice([b"[", b"{", b"\\u0000", b"99999999999999999999", b'"'])
            elif action == 3 and body:
                body[rng.randrange(len(body))] = rng.randrange(256)
            else:
                body[at:at] = b"\x00"
        payload = bytes(body)
        try:
            decode(SPECS[kind], channel, payload, received_at=now)
        except Rejected as exc:
            reason: str | None = exc.reason.value
        else:
            reason = None
        cases.append(Case(f"fh/{site}/{kind}/{DEVICES[kind]}/{channel}", payload, reason))
    return cases


def _bridge(host: str, port: int, site: str, client_id: str, engine: Engine, data: Path) -> Bridge:
    settings = Settings(mqtt_url=f"mqtt://{host}:{port}", data_dir=data)  # type: ignore[arg-type]
    return Bridge(
        settings, session_factory(engine), client_id=client_id, topics=[f"fh/{site}/+/+/+"]
    )


def test_hostile_corpus_is_stored_or_dead_lettered_with_its_reason(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    host, port = require_mosquitto()
    site = unique_site("hostile")
    with session_factory(fresh_engine)() as session:
        register(
            session,
            ManualClock(),
            site,
            [(d, DeviceKind(k), "1/1") for k, d in DEVICES.items()]
            + [("retained-1", DeviceKind.leak, "1/2")],
        )
        register(
            session, ManualClock(), unique_site("other"), [("elsewhere-1", DeviceKind.leak, None)]
        )
        session.commit()
    retained_topic = f"fh/{site}/leak/retained-1/telemetry"
    retained = [
        Case(retained_topic.replace("telemetry", "event"), b"{retained junk", "bad_json", True),
        Case(retained_topic, b'{"leak": false, "battery": 77}', None, True),
    ]
    cases = _fixed(site) + _accepted(site) + _generated(site, 300)
    client_id = new_client_id("hostile")
    publisher = Publisher(host, port)
    bridge = _bridge(host, port, site, client_id, fresh_engine, tmp_path)
    try:
        for case in retained:  # retained before the bridge ever subscribes
            publisher.client.publish(case.topic, case.payload, qos=1, retain=True).wait_for_publish(
                10
            )
        runs = []
        for run in range(3):  # each start subscribes again: the broker replays the retained
            bridge.start()
            assert bridge.wait_subscribed()
            due = len(retained)
            if run == 0:
                for case in cases:
                    publisher.publish(case.topic, case.payload)
                due += len(cases)
            assert wait_for(lambda b=bridge, n=due: b.stats.received >= n and b.idle())
            bridge.stop()
            runs.append(bridge.stats)
            bridge = _bridge(host, port, site, client_id, fresh_engine, tmp_path)
    finally:
        for case in retained:
            publisher.client.publish(case.topic, b"", qos=1, retain=True).wait_for_publish(10)
        publisher.close()
        forget_session(host, port, client_id)
    everything = cases + retained
    with session_factory(fresh_engine)() as session:
        stored = session.scalar(select(func.count()).select_from(Signal)) or 0
        dead = Counter(
            (digest, reason)
            for digest, reason in session.execute(select(DeadLetter.digest, DeadLetter.reason))
        )
    expected_dead = Counter(
        (message_digest(c.topic, c.payload), c.reason) for c in everything if c.reason is not None
    )
    valid = sum(c.reason is None for c in everything)
    internal = sum(n for (_digest, reason), n in dead.items() if reason == "internal_error")
    print(
        f"\nhostile corpus [{fresh_engine.dialect.name}]: sent {len(everything)}"
        f" (+{2 * len(retained)} retained replays), stored {stored}, dead-lettered"
        f" {sum(dead.values())}, internal errors {internal},"
        f" reasons {dict(sorted(Counter(r for _d, r in dead.elements()).items()))}"
    )
    assert internal == 0
    assert not any("internal_error" in stats.reasons for stats in runs)
    assert [stats.duplicates for stats in runs[1:]] == [2, 2]  # the retained replays
    assert dead == expected_dead  # each bad one once, with its reason; retained junk once
    assert stored == valid  # each valid one once; the retained reading once
