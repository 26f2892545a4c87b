"""A dead letter belongs to the registered device's site, else to the site its topic names
if it is one, else to none (seen by administrators of every site) — on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.registry.enums import DeviceKind
from hub.signals.models import DeadLetter
from hub.signals.service import Incoming
from tests.conftest import OTHER_SITE, SITE
from tests.pipeline import ingest, register

pytestmark = pytest.mark.usefixtures("sites")


@pytest.mark.parametrize(
    ("topic", "reason", "site"),
    [
        (f"fh/{OTHER_SITE}/leak/leak-a1/telemetry", "wrong_site", SITE),
        ("fh/no-such-site/leak/leak-a1/telemetry", "wrong_site", SITE),
        (f"fh/{SITE}/leak/Bad Device!/telemetry", "bad_topic", SITE),
        (f"fh/{OTHER_SITE}/leak/no-such-device/telemetry", "unknown_device", OTHER_SITE),
        ("fh/no-such-site/leak/no-such-device/telemetry", "unknown_device", None),
        ("elsewhere/x", "bad_topic", None),
    ],
)
def test_a_dead_letter_belongs_to_the_devices_site_else_the_topics(
    db: Session, clock: ManualClock, topic: str, reason: str, site: str | None
) -> None:
    register(db, clock, SITE, [("leak-a1", DeviceKind.leak, "1/1/pipe-well")])
    message = Incoming(topic=topic, payload=b'{"leak": true}', received_at=clock.now())
    assert ingest(db, clock, message).reasons == {reason: 1}
    row = db.scalars(select(DeadLetter).where(DeadLetter.topic == topic)).one()
    assert row.site_id == site
