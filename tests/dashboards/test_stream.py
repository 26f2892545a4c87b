"""`GET /api/v1/stream`: a device's change reaches the streams of its site, and only those,
within the second of its commit; a reconnecting page resumes by id; heartbeats; refusals.
"""

from __future__ import annotations

import httpx

from tests.bridges.conftest import wait_for
from tests.dashboards.conftest import LiveHub
from tests.dashboards.sse import StreamReader


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_leak_reaches_its_sites_streams_and_no_other(live_hub: LiveHub) -> None:
    hub = live_hub
    mine = StreamReader(hub.base, _bearer(hub.tokens["engineer"]))
    theirs = StreamReader(hub.base, _bearer(hub.other_engineer))
    try:
        leak = next(d for d, (k, s) in hub.devices.items() if k == "leak" and s == hub.site)
        hub.publish(leak, {"leak": True})
        assert wait_for(lambda: mine.of("alarm") and mine.of("work_order"), 15)
        assert wait_for(lambda: any(e.data["id"] == leak for e in mine.of("device")), 15)
        alarm = mine.of("alarm")[0]
        assert alarm.data["device_id"] == leak
        assert alarm.data["site"] == hub.site
        assert all(e.data["site"] == hub.site for e in mine.events)
        # The other site's engineer sees their own device and nothing of ours.
        maple = next(d for d, (_k, s) in hub.devices.items() if s == hub.other)
        hub.publish(maple, {"leak": False})
        assert wait_for(lambda: theirs.of("device"), 15)
        assert all(e.data["site"] == hub.other for e in theirs.events)
        assert not any(e.data["site"] == hub.other for e in mine.events)
    finally:
        mine.close()
        theirs.close()


def test_a_page_resumes_after_its_last_event_id(live_hub: LiveHub) -> None:
    hub = live_hub
    first = StreamReader(hub.base, _bearer(hub.tokens["front_desk"]))
    light = next(d for d, (k, s) in hub.devices.items() if k == "light" and s == hub.site)
    try:
        hub.publish(light, {"on": True, "power_w": 12})
        assert wait_for(lambda: first.of("device"), 15)
        seen = first.events[-1].id
        assert seen is not None
        hub.publish(light, {"on": True, "power_w": 13})
        assert wait_for(lambda: any((e.id or 0) > seen for e in first.of("device")), 15)
    finally:
        first.close()
    # A reconnect with the id of the earlier event gets what came after it, in order.
    again = StreamReader(
        hub.base, {**_bearer(hub.tokens["front_desk"]), "Last-Event-ID": str(seen)}
    )
    try:
        assert wait_for(lambda: again.of("device"), 10)
        ids = [e.id for e in again.events]
        assert ids == sorted(ids)
        assert min(i for i in ids if i is not None) > seen
        assert any(e.data.get("values", {}).get("power_w") == 13 for e in again.of("device"))
    finally:
        again.close()


def test_heartbeats_keep_an_idle_stream_open(live_hub: LiveHub) -> None:
    reader = StreamReader(live_hub.base, _bearer(live_hub.tokens["manager"]))
    try:
        assert wait_for(lambda: any(c.startswith("ping") for c in reader.comments), 5)
    finally:
        reader.close()


def test_the_stream_refuses_what_it_cannot_serve(live_hub: LiveHub) -> None:
    hub = live_hub
    with httpx.Client(base_url=hub.base, timeout=5) as client:
        assert client.get("/api/v1/stream").status_code == 401
        bad = client.get(
            "/api/v1/stream", headers={**_bearer(hub.tokens["engineer"]), "Last-Event-ID": "abc"}
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "validation_error"
        other = client.get(
            "/api/v1/stream", params={"site": hub.other}, headers=_bearer(hub.tokens["engineer"])
        )
        assert other.status_code == 404
        unknown = client.get(
            "/api/v1/stream", params={"nope": "1"}, headers=_bearer(hub.tokens["engineer"])
        )
        assert unknown.status_code == 422
        forged = client.get("/api/v1/stream", headers={"Cookie": "fh_session=x.y"})
        assert forged.status_code == 401
