"""The Grafana provisioning: every panel queries measurements and fields the sink writes.

The set of series comes from the sink's own derivation from the device kinds' schemas
(`bridges.lineproto.written_series`), so a renamed field or kind breaks this test rather
than a dashboard in the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridges.lineproto import DEVICE_TAGS, written_series
from hub.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "dashboards" / "grafana"
BOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
MEASUREMENT = re.compile(r'r\._measurement\s*==\s*"([^"]+)"')
FIELD = re.compile(r'r\._field\s*==\s*"([^"]+)"')
COLUMN = re.compile(r"\br\.([A-Za-z_]\w*)")
BUCKET = re.compile(r'bucket:\s*"([^"]+)"')
TAG = re.compile(r'tag:\s*"([^"]+)"')
OTHER_TAGS = {"type", "source", "change", "severity", "reason", "worker"}
"""Tags besides the device ones: of events (`type`, enumerated fields), alarms, counters."""
COLUMNS = {*DEVICE_TAGS, *OTHER_TAGS, "_measurement", "_field", "_value", "_time"}


def _datasource() -> dict[str, Any]:
    doc = yaml.safe_load((GRAFANA / "provisioning/datasources/influxdb.yaml").read_text())
    (source,) = doc["datasources"]
    return dict(source)


def _queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    found = [(p["title"], t["query"]) for p in board["panels"] for t in p["targets"]]
    found += [(f"variable {v['name']}", v["query"]) for v in board["templating"]["list"]]
    return found


def test_there_is_a_dashboard_for_each_view_an_engineer_asks_for() -> None:
    names = {b.stem for b in BOARDS}
    assert names == {"device-health", "leak-pressure", "restroom-levels", "gate-traffic", "ingest"}


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.stem)
def test_every_panel_queries_what_the_sink_writes(path: Path) -> None:
    board = json.loads(path.read_text(encoding="utf-8"))
    series = written_series()
    bucket = Settings().influx_bucket
    uid = _datasource()["uid"]
    assert board["panels"], "a dashboard without panels"
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == uid
        assert panel["targets"], f"{panel['title']}: no query"
        for target in panel["targets"]:
            query = target["query"]
            measurements = MEASUREMENT.findall(query)
            assert measurements, f"{panel['title']}: names no measurement"
            unknown = [m for m in measurements if m not in series]
            assert not unknown, f"{panel['title']}: the sink writes no {unknown}"
            fields = set(FIELD.findall(query))
            assert fields, f"{panel['title']}: names no field"
            known = set().union(*(series[m] for m in measurements))
            assert fields <= known, f"{panel['title']}: no fields {sorted(fields - known)}"
    for title, query in _queries(board):
        assert set(BUCKET.findall(query)) == {bucket}, f"{title}: not the bucket the hub writes"
        columns = set(COLUMN.findall(query))
        assert columns <= COLUMNS, f"{title}: no tags {sorted(columns - COLUMNS)}"
        assert set(TAG.findall(query)) <= COLUMNS, f"{title}: a variable over an unknown tag"


def test_the_data_source_is_flux_on_the_token_the_hub_writes_with() -> None:
    source = _datasource()
    assert source["type"] == "influxdb"
    assert source["jsonData"]["version"] == "Flux"
    assert source["secureJsonData"]["token"] == "${INFLUX_TOKEN}"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    grafana = compose["services"]["grafana"]["environment"]
    hub = compose["services"]["hub"]["environment"]
    assert grafana["INFLUX_TOKEN"] == hub["FH_INFLUX_TOKEN"]
    assert grafana["INFLUX_BUCKET"] == hub["FH_INFLUX_BUCKET"] == Settings().influx_bucket
    assert grafana["INFLUX_ORG"] == hub["FH_INFLUX_ORG"]


def test_the_dashboard_provider_reads_where_compose_mounts_the_files() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/facility-hub.yaml").read_text())
    (entry,) = provider["providers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    mounts = {}
    for volume in compose["services"]["grafana"]["volumes"]:
        source, target, *_mode = volume.split(":")
        mounts[source] = target
    assert mounts["./dashboards/grafana/dashboards"] == entry["options"]["path"]
    assert mounts["./dashboards/grafana/provisioning"] == "/etc/grafana/provisioning"
