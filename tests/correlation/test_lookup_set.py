"""The desk's look-up, measured on owner sentences (`lookup_set.toml`): each sentence lands
on its place or on none; an unknown place shows nothing rather than the whole site.

Figures (on the demo site with orders open in three buildings and an area): precision of
the places found, recall of the places labelled, and floods (an unknown or unsaid place
answered with orders or notices) — precision ≥ 0.95, recall ≥ 0.90, no flood.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.complaints.intake import place_in_text
from hub.demo import DEMO_SITE, seed_demo
from hub.registry.enums import LocationKind
from hub.registry.service import ensure_location
from hub.settings import Settings

CASES: list[dict[str, Any]] = tomllib.loads(
    (Path(__file__).parent / "lookup_set.toml").read_text(encoding="utf-8")
)["case"]
DESK = {"Authorization": "Bearer fh_demo_front_desk"}
MANAGER = {"Authorization": "Bearer fh_demo_manager"}
OPEN_AT = ("1/5", "2/8", "3/12", "2/5/pipe-well", "garage/entrance", "refuse-room")
"""Orders being worked at these places while the desk looks up."""


@pytest.fixture
def demo(db: Session, clock: ManualClock, client: TestClient) -> None:
    seed_demo(session=db, now=clock.now(), pepper=Settings().token_pepper.get_secret_value())
    ensure_location(
        session=db,
        site_id=DEMO_SITE,
        path="refuse-room",
        names=["垃圾房/垃圾站 Refuse room/bin store"],
        leaf_kind=LocationKind.area,
    )
    db.commit()
    for path in OPEN_AT:
        answer = client.post(
            "/api/v1/work-orders",
            json={
                "site": DEMO_SITE,
                "title": f"Leak and lights at {path}",
                "department": "engineering",
                "location": path,
            },
            headers=MANAGER,
        )
        assert answer.status_code == 201, answer.text


def test_the_set_is_big_enough_and_mixed() -> None:
    assert len(CASES) >= 60
    assert sum(1 for c in CASES if c["place"]) >= 30
    assert sum(1 for c in CASES if not c["place"]) >= 20
    assert sum(1 for c in CASES if c["text"].isascii()) >= 15


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("case", CASES, ids=[c["text"][:24] for c in CASES])
def test_a_sentence_lands_on_its_place(db: Session, case: dict[str, Any]) -> None:
    read = place_in_text(db, DEMO_SITE, case["text"])
    assert (read.path if read else None) == (case["place"] or None), read
    if "wanted" in case:
        assert read is not None
        assert read.wanted == case["wanted"]
        assert read.home
        assert not read.known


def _flooded(client: TestClient, case: dict[str, Any]) -> bool:
    found = client.get("/api/v1/known-issues", params={"text": case["text"]}, headers=DESK).json()
    return bool(found["items"] or found["notices"])


def measure(db: Session, client: TestClient) -> dict[str, float]:
    """Precision, recall and floods over the whole set."""
    hits = wrong = labelled = floods = 0
    for case in CASES:
        read = place_in_text(db, DEMO_SITE, case["text"])
        path = read.path if read else None
        labelled += bool(case["place"])
        if path is not None:
            hits += path == case["place"]
            wrong += path != case["place"]
        if not case["place"] and not case.get("site_wide") and _flooded(client, case):
            floods += 1
    return {
        "sentences": len(CASES),
        "precision": hits / (hits + wrong) if hits + wrong else 0.0,
        "recall": hits / labelled,
        "floods": floods,
    }


@pytest.mark.usefixtures("demo")
def test_the_figures(db: Session, client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    figures = measure(db, client)
    with capsys.disabled():
        print(f"\nlook-up figures: {figures}")
    assert figures["precision"] >= 0.95
    assert figures["recall"] >= 0.90
    assert figures["floods"] == 0


@pytest.mark.usefixtures("demo")
def test_a_place_shows_a_few_of_its_own_orders_and_why(client: TestClient) -> None:
    found = client.get(
        "/api/v1/known-issues", params={"text": "3号楼12层走廊灯坏了"}, headers=DESK
    ).json()
    assert found["location"] == "3/12"
    assert found["reasons"] == ["location 3/12 read from “3号楼12层”"]
    assert 1 <= len(found["items"]) <= 3, found
    assert [i["location"] for i in found["items"]][0] == "3/12"
    assert all(i["score"] >= 0.5 and i["reasons"] for i in found["items"])
    unknown = client.get(
        "/api/v1/known-issues", params={"text": "4-2-301家里水管爆了"}, headers=DESK
    ).json()
    assert (unknown["items"], unknown["notices"], unknown["location"]) == ([], [], None)
    assert unknown["reasons"] == ["location 4/3/301 read from “4-2-301” is not in the registry"]
    whole = client.get(
        "/api/v1/known-issues", params={"text": "全小区停水了吗"}, headers=DESK
    ).json()
    assert whole["reasons"] == ["the words are about the whole site"]
    assert len(whole["items"]) <= 3
