"""Ingest: signals stored once, dead letters with reasons, the hash chain, the HTTP views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from hub.auth.enums import Role
from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.signals.models import DeadLetter, Signal
from hub.signals.service import verify_chain
from tests.conftest import OTHER_SITE, SITE, bearer
from tests.pipeline import ingest, message, register

pytestmark = pytest.mark.usefixtures("sites")


@pytest.fixture
def leak(db: Session, clock: ManualClock) -> Device:
    """A leak sensor in building 4's pipe well."""
    return register(db, clock, SITE, [("leak-4-3", DeviceKind.leak, "4/3/pipe-well")])["leak-4-3"]


def _count(db: Session, device_id: str) -> int:
    return db.scalar(select(func.count()).where(Signal.device_id == device_id)) or 0


def test_a_redelivered_message_is_stored_once(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    msg = message(SITE, "leak", leak.id, {"id": "m-1", "leak": False}, at=clock.now())
    first = ingest(db, clock, msg, msg)
    again = ingest(db, clock, msg)
    assert (first.accepted, first.duplicates) == (1, 1)
    assert (again.accepted, again.duplicates) == (0, 1)
    assert _count(db, leak.id) == 1


@pytest.mark.parametrize("message_id", ['it\'s "quoted"', "back\\slash", "漏水-4-3", "[0]", "$.x"])
def test_a_redelivered_message_is_found_whatever_its_id(
    db: Session, clock: ManualClock, leak: Device, message_id: str
) -> None:
    msg = message(SITE, "leak", leak.id, {"id": message_id, "leak": False}, at=clock.now())
    assert ingest(db, clock, msg).accepted == 1
    clock.advance(seconds=5)
    again = ingest(db, clock, msg)
    assert (again.accepted, again.duplicates) == (0, 1)
    assert _count(db, leak.id) == 1


def test_without_an_id_the_key_is_topic_ts_and_payload(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    ts = clock.now().isoformat()
    same = message(SITE, "leak", leak.id, {"ts": ts, "leak": False}, at=clock.now())
    clock.advance(seconds=3)
    redelivered = message(SITE, "leak", leak.id, {"ts": ts, "leak": False}, at=clock.now())
    later = message(
        SITE, "leak", leak.id, {"ts": clock.now().isoformat(), "leak": False}, at=clock.now()
    )
    result = ingest(db, clock, same, redelivered, later)
    assert (result.accepted, result.duplicates) == (2, 1)


DEAD = [
    ("fh/sunshine-garden/leak/leak-4-3", b'{"leak": true}', "bad_topic"),
    ("fh/sunshine-garden/leak/nobody/telemetry", b'{"leak": true}', "unknown_device"),
    ("fh/maple-court/leak/leak-4-3/telemetry", b'{"leak": true}', "wrong_site"),
    ("fh/sunshine-garden/light/leak-4-3/telemetry", b'{"on": true}', "wrong_kind"),
    ("fh/sunshine-garden/leak/leak-4-3/telemetry", b"{oops", "bad_json"),
    ("fh/sunshine-garden/leak/leak-4-3/telemetry", b'{"battery": 3}', "invalid_payload"),
    ("fh/sunshine-garden/leak/leak-4-3/event", b'{"type": "explode"}', "unknown_event"),
    ("fh/sunshine-garden/leak/leak-4-3/status", b"dozing", "bad_status"),
]


@pytest.mark.parametrize(("topic", "payload", "reason"), DEAD)
def test_rejected_messages_are_dead_lettered_and_traffic_goes_on(
    db: Session, clock: ManualClock, leak: Device, topic: str, payload: bytes, reason: str
) -> None:
    from hub.signals.service import Incoming

    bad = Incoming(topic=topic, payload=payload, received_at=clock.now(), qos=1)
    good = message(SITE, "leak", leak.id, {"leak": False}, at=clock.now())
    result = ingest(db, clock, bad, good)
    assert (result.accepted, result.dead) == (1, 1)
    assert result.reasons == {reason: 1}
    row = db.scalars(select(DeadLetter).where(DeadLetter.topic == topic)).one()
    assert (row.reason, row.payload_bytes, row.received_at) == (reason, len(payload), clock.now())
    assert row.detail or reason == "unknown_device"
    # It belongs to the registered device's site, else to the site its topic names.
    assert row.site_id == SITE


def test_a_future_timestamp_is_refused(db: Session, clock: ManualClock, leak: Device) -> None:
    ts = (clock.now() + timedelta(minutes=6)).isoformat()
    result = ingest(
        db, clock, message(SITE, "leak", leak.id, {"ts": ts, "leak": True}, at=clock.now())
    )
    assert result.reasons == {"future_timestamp": 1}
    assert _count(db, leak.id) == 0


def test_a_huge_payload_is_truncated_in_the_dead_letter(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    body = b'{"leak": true, "junk": "' + b"x" * 70_000 + b'"}'
    result = ingest(db, clock, message(SITE, "leak", leak.id, body, at=clock.now()))
    assert result.reasons == {"too_large": 1}
    row = db.scalars(select(DeadLetter)).one()
    assert row.payload_bytes == len(body)
    assert len(row.payload) <= 1024


def test_signals_form_a_hash_chain_that_shows_edits(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    for i in range(5):
        clock.advance(seconds=10)
        ingest(
            db,
            clock,
            message(SITE, "leak", leak.id, {"leak": False, "battery": 90 - i}, at=clock.now()),
        )
    assert verify_chain(session=db, device_id=leak.id) == (True, 5)
    third = db.scalars(select(Signal).where(Signal.device_id == leak.id).order_by(Signal.id)).all()[
        2
    ]
    db.execute(update(Signal).where(Signal.id == third.id).values(payload={"leak": True}))
    db.expire_all()
    intact, checked = verify_chain(session=db, device_id=leak.id)
    assert not intact
    assert checked == 2


def test_status_sets_availability(db: Session, clock: ManualClock, leak: Device) -> None:
    ingest(db, clock, message(SITE, "leak", leak.id, "online", at=clock.now(), channel="status"))
    assert leak.status == "online"
    assert leak.last_seen_at == clock.now()
    clock.advance(minutes=1)
    ingest(db, clock, message(SITE, "leak", leak.id, "offline", at=clock.now(), channel="status"))
    assert leak.status == "offline"


def test_last_seen_moves_in_steps_of_a_tenth_of_the_heartbeat_timeout(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    # A leak sensor's timeout is 900 s: the step is capped at 30 s.
    first = clock.now()
    for seconds in (0, 10, 29):
        clock.set(first + timedelta(seconds=seconds))
        ingest(db, clock, message(SITE, "leak", leak.id, {"leak": False}, at=clock.now()))
    db.expire(leak)
    assert leak.last_seen_at == first
    clock.set(first + timedelta(seconds=30))
    ingest(db, clock, message(SITE, "leak", leak.id, {"leak": False}, at=clock.now()))
    db.expire(leak)
    assert leak.last_seen_at == clock.now()
    assert db.scalar(select(func.count()).select_from(Signal)) == 4


def test_a_site_back_from_an_outage_goes_online_in_a_few_statements(
    db: Session, clock: ManualClock
) -> None:
    """However many devices come back in a batch, the batch's statements stay the same."""
    counts = []
    for n, prefix in ((5, "back-a"), (60, "back-b")):
        leaks = register(
            db, clock, SITE, [(f"{prefix}-{i:02d}", DeviceKind.leak, "9/1") for i in range(n)]
        )
        batch = [message(SITE, "leak", i, {"leak": False}, at=clock.now()) for i in leaks]
        db.expunge_all()  # as in the bridge: a new session for every batch
        statements: list[str] = []

        def count(*args: object, into: list[str] = statements) -> None:
            into.append(str(args[2]))

        engine = db.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert ingest(db, clock, *batch).accepted == n
            db.flush()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        statuses = db.scalars(select(Device.status).where(Device.id.in_(leaks)))
        assert set(statuses) == {"online"}
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a_retained_status_replayed_on_resubscribe_is_not_a_new_signal(
    db: Session, clock: ManualClock, leak: Device
) -> None:
    ingest(db, clock, message(SITE, "leak", leak.id, "online", at=clock.now(), channel="status"))
    clock.advance(minutes=5)
    replay = message(SITE, "leak", leak.id, "online", at=clock.now(), channel="status", retain=True)
    assert ingest(db, clock, replay).duplicates == 1


def test_signals_route_filters_by_time(
    db: Session,
    clock: ManualClock,
    leak: Device,
    client: TestClient,
    make_token: Callable[..., str],
) -> None:
    start = clock.now()
    for _ in range(6):
        ingest(
            db,
            clock,
            message(
                SITE,
                "leak",
                leak.id,
                {"ts": clock.now().isoformat(), "leak": False},
                at=clock.now(),
            ),
        )
        clock.advance(minutes=1)
    token = make_token(Role.engineer)
    since = (start + timedelta(minutes=2)).isoformat()
    until = (start + timedelta(minutes=4)).isoformat()
    resp = client.get(
        f"/api/v1/devices/{leak.id}/signals",
        params={"since": since, "until": until},
        headers=bearer(token),
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["count"] == 2
    assert [s["channel"] for s in body["items"]] == ["telemetry", "telemetry"]
    assert body["items"][0]["payload"] == {"leak": False}
    other = make_token(Role.engineer, site_ids=("maple-court",))
    assert (
        client.get(f"/api/v1/devices/{leak.id}/signals", headers=bearer(other)).status_code == 404
    )
    naive = client.get(
        f"/api/v1/devices/{leak.id}/signals",
        params={"since": "2026-11-23T10:00:00"},
        headers=bearer(token),
    )
    assert naive.status_code == 422
    assert naive.json()["error"]["details"][0]["field"] == "since"


def test_dead_letters_route_newest_first_with_counts(
    db: Session,
    clock: ManualClock,
    leak: Device,
    client: TestClient,
    make_token: Callable[..., str],
) -> None:
    from hub.signals.service import Incoming

    for payload in (b"{oops", b"[1]", b"{also bad"):
        clock.advance(seconds=1)
        ingest(
            db,
            clock,
            Incoming(
                topic=f"fh/{SITE}/leak/{leak.id}/telemetry",
                payload=payload,
                received_at=clock.now(),
            ),
        )
    for topic in (f"fh/{OTHER_SITE}/leak/x/telemetry", "not/a/device/topic"):
        ingest(db, clock, Incoming(topic=topic, payload=b"{}", received_at=clock.now()))
    resp = client.get("/api/v1/dead-letters", headers=bearer(make_token(Role.manager)))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["counts"] == {"bad_json": 2, "not_object": 1}
    assert [i["payload"] for i in body["items"]] == ["{also bad", "[1]", "{oops"]
    # An admin of this site sees its dead letters and the unattributable ones, not another
    # site's; that site's own users see theirs.
    admin = client.get("/api/v1/dead-letters", headers=bearer(make_token(Role.admin))).json()
    assert admin["counts"] == {"bad_json": 2, "not_object": 1, "bad_topic": 1}
    theirs = bearer(make_token(Role.manager, site_ids=(OTHER_SITE,)))
    assert client.get("/api/v1/dead-letters", headers=theirs).json()["counts"] == {
        "unknown_device": 1
    }
