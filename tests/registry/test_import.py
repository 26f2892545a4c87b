"""Registry import: every row checked, errors per line, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.clock import ManualClock
from hub.registry.importer import import_devices
from hub.registry.models import Device, Location
from tests.conftest import SITE

pytestmark = pytest.mark.usefixtures("sites")

GOOD_CSV = """id,site,kind,name,location,heartbeat_timeout_s,installed_on,external_topic,adapter
light-b3-f12,sunshine-garden,light,3号楼12层走廊灯,3/12,300,2024-05-01,,
leak-b3-f12,sunshine-garden,leak,3号楼12层管井,3/12/pipe-well,,,zigbee2mqtt/leak_3_12,zigbee2mqtt
gate-north,sunshine-garden,gate,北门道闸,north-gate,60,,,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Device)) or 0


def test_a_good_csv_imports_with_its_location_tree(
    db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    report = import_devices(session=db, path=write(tmp_path, "d.csv", GOOD_CSV), now=clock.now())
    assert report.ok, report.errors
    assert (report.created, report.updated) == (3, 0)
    light = db.get(Device, "light-b3-f12")
    assert light is not None
    assert light.location is not None
    assert light.location.path == "3/12"
    assert light.location.kind == "floor"
    assert light.heartbeat_timeout_s == 300
    leak = db.get(Device, "leak-b3-f12")
    assert leak is not None
    assert leak.adapter == "zigbee2mqtt"
    assert leak.heartbeat_timeout_s == 900  # the kind's default
    building = db.scalar(select(Location).where(Location.site_id == SITE, Location.path == "3"))
    assert building is not None
    assert building.kind == "building"


def test_a_good_json_imports_and_reimport_updates(
    db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    rows = [
        {
            "id": "restroom-club-2f-men",
            "site": SITE,
            "kind": "restroom",
            "location": "clubhouse/2/men-restroom",
        },
        {"id": "gate-garage", "site": SITE, "kind": "gate", "name": "车库入口"},
    ]
    path = write(tmp_path, "d.json", json.dumps({"devices": rows}))
    assert import_devices(session=db, path=path, now=clock.now()).created == 2
    rows[1]["name"] = "车库入口道闸 Garage barrier"
    again = import_devices(
        session=db, path=write(tmp_path, "d.json", json.dumps(rows)), now=clock.now()
    )
    assert (again.created, again.updated) == (0, 2)
    gate = db.get(Device, "gate-garage")
    assert gate is not None
    assert gate.name == "车库入口道闸 Garage barrier"


@pytest.mark.parametrize(
    ("row", "where", "message"),
    [
        ("Light-B3,sunshine-garden,light,,,,,,", "line 3", "id"),
        ("light-x,sunshine-garden,lamp,,,,,,", "line 3", "kind"),
        ("light-x,nowhere,light,,,,,,", "line 3", "unknown site"),
        ("light-x,sunshine-garden,light,,3//12,,,,", "line 3", "location"),
        ("light-x,sunshine-garden,light,,,5,,,", "line 3", "heartbeat_timeout_s"),
        ("light-x,sunshine-garden,light,,,,2024-13-01,,", "line 3", "installed_on"),
        ("light-x,sunshine-garden,light,,,,,,tasmota", "line 3", "external_topic"),
        ("light-ok,sunshine-garden,light,,,,,,", "line 3", "repeats line 2"),
        ("light-x,sunshine-garden,light,,,,,,,extra", "line 3", "more fields"),
    ],
)
def test_bad_rows_are_reported_per_line_and_nothing_is_imported(
    db: Session, clock: ManualClock, tmp_path: Path, row: str, where: str, message: str
) -> None:
    header = "id,site,kind,name,location,heartbeat_timeout_s,installed_on,external_topic,adapter\n"
    text = header + "light-ok,sunshine-garden,light,,,,,,\n" + row + "\n"
    report = import_devices(session=db, path=write(tmp_path, "bad.csv", text), now=clock.now())
    assert not report.ok
    assert any(w == where and message in m for w, m in report.errors), report.errors
    assert all(w == where for w, _m in report.errors)
    assert count(db) == 0


def test_topic_taken_by_another_device_is_refused(
    db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    import_devices(session=db, path=write(tmp_path, "a.csv", GOOD_CSV), now=clock.now())
    clash = (
        "id,site,kind,external_topic,adapter\n"
        "leak-other,sunshine-garden,leak,zigbee2mqtt/leak_3_12,zigbee2mqtt\n"
    )
    report = import_devices(session=db, path=write(tmp_path, "b.csv", clash), now=clock.now())
    assert report.errors == [("line 2", "external_topic: already used by 'leak-b3-f12'")]


@pytest.mark.parametrize(
    ("name", "text"),
    [("x.json", "{broken"), ("x.json", '{"rows": 1}'), ("x.yaml", "a: 1"), ("x.json", "[1]")],
)
def test_unreadable_files_are_reported(
    db: Session, clock: ManualClock, tmp_path: Path, name: str, text: str
) -> None:
    report = import_devices(session=db, path=write(tmp_path, name, text), now=clock.now())
    assert not report.ok
    assert count(db) == 0


def test_an_imported_adapter_device_leaves_the_quarantine(
    db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    from hub.registry.models import QuarantinedDevice
    from hub.registry.quarantine import Heard, hold

    hold(
        session=db,
        heard=[Heard("tasmota", "corridor_3_12", "tele/corridor_3_12/STATE", b"{}", clock.now())],
        limit=10,
    )
    text = (
        "id,site,kind,adapter,external_id\n"
        "light-b3-f12,sunshine-garden,light,tasmota,corridor_3_12\n"
    )
    report = import_devices(session=db, path=write(tmp_path, "d.csv", text), now=clock.now())
    assert report.ok, report.errors
    device = db.get(Device, "light-b3-f12")
    assert device is not None
    assert (device.adapter, device.external_id) == ("tasmota", "corridor_3_12")
    assert db.scalars(select(QuarantinedDevice)).all() == []


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("leak-x,sunshine-garden,leak,zigbee2mqtt,", "external_id"),
        ("leak-x,sunshine-garden,leak,,some-name", "external_id needs an adapter"),
        ("leak-x,sunshine-garden,leak,zigbee2mqtt,a+b", "wildcards"),
        ("leak-x,sunshine-garden,leak,zigbee2mqtt," + "n" * 256, "255"),
        ("leak-x,sunshine-garden,leak,hue,lamp", "adapter"),
    ],
)
def test_bad_adapter_mappings_are_refused(
    db: Session, clock: ManualClock, tmp_path: Path, row: str, message: str
) -> None:
    text = f"id,site,kind,adapter,external_id\n{row}\n"
    report = import_devices(session=db, path=write(tmp_path, "d.csv", text), now=clock.now())
    assert not report.ok
    assert message in str(report.errors), report.errors


def test_an_external_id_names_one_device_of_its_adapter(
    db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    text = (
        "id,site,kind,adapter,external_id\n"
        "leak-x,sunshine-garden,leak,zigbee2mqtt,sensor\n"
        "leak-y,sunshine-garden,leak,zigbee2mqtt,sensor\n"
        "light-y,sunshine-garden,light,tasmota,sensor\n"
    )
    report = import_devices(session=db, path=write(tmp_path, "d.csv", text), now=clock.now())
    assert report.errors == [("line 3", "external_id: repeats line 2")]


BILINGUAL_CSV = (
    "id,site,kind,name,name_en,location,location_names,location_names_en\n"
    "leak-b3-f12,sunshine-garden,leak,3号楼12层管井漏水,Pipe-well leak B3 F12,3/12/pipe-well,"
    "3号楼/12层/管井,Building 3/Floor 12/Pipe well\n"
    "gate-north,sunshine-garden,gate,北门道闸,North entrance barrier,north-gate,北门,North gate\n"
)


def test_an_import_names_devices_and_every_level_of_their_place_in_both_languages(
    db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    path = write(tmp_path, "d.csv", BILINGUAL_CSV)
    report = import_devices(session=db, path=path, now=clock.now())
    assert report.ok, report.errors
    leak = db.get(Device, "leak-b3-f12")
    assert leak is not None
    assert leak.location is not None
    assert (leak.name, leak.name_en) == ("3号楼12层管井漏水", "Pipe-well leak B3 F12")
    assert (leak.location.name, leak.location.name_en) == ("管井", "Pipe well")
    floor = db.scalar(select(Location).where(Location.site_id == SITE, Location.path == "3/12"))
    assert floor is not None
    assert (floor.name, floor.name_en) == ("12层", "Floor 12")
    gate = db.get(Device, "gate-north")
    assert gate is not None
    assert gate.location is not None
    assert gate.location.name_en == "North gate"


def test_hostile_english_names_are_refused_or_stored_on_both_databases(
    db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    nul = BILINGUAL_CSV.replace("Pipe-well leak B3 F12", "Pipe\x00well")
    bad = import_devices(session=db, path=write(tmp_path, "nul.csv", nul), now=clock.now())
    assert not bad.ok
    long = BILINGUAL_CSV.replace("Pipe-well leak B3 F12", "x" * 201)
    assert not import_devices(session=db, path=write(tmp_path, "l.csv", long), now=clock.now()).ok
    odd = BILINGUAL_CSV.replace("Building 3/Floor 12/Pipe well", "𝔅 3/" + "F" * 300 + "/'; --")
    report = import_devices(session=db, path=write(tmp_path, "o.csv", odd), now=clock.now())
    assert report.ok, report.errors
    db.flush()
    floor = db.scalar(select(Location).where(Location.site_id == SITE, Location.path == "3/12"))
    assert floor is not None
    assert len(floor.name_en) == 200
