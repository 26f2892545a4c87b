"""The compose stack: the broker signs clients in, the hub migrates before it serves, every
service has a healthcheck, Grafana is provisioned, the InfluxDB token reaches both ends."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    "FH_TOKEN_PEPPER": "compose-test-pepper-0123456789",
    "POSTGRES_PASSWORD": "pg",
    "INFLUX_PASSWORD": "influx-password",
    "INFLUX_TOKEN": "influx-token",
    "FH_MQTT_PASSWORD": "mqtt",
    "GRAFANA_ADMIN_PASSWORD": "grafana",
}


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return doc


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_mode = volume.split(":")
        found[target] = source
    return found


def test_the_broker_signs_clients_in_with_the_files_fhub_writes() -> None:
    mosquitto = _compose()["services"]["mosquitto"]
    mounts = _mounts(mosquitto)
    conf = (ROOT / "deploy/mosquitto.conf").read_text("utf-8").splitlines()
    settings = dict(line.split(None, 1) for line in conf if line and not line.startswith("#"))
    assert settings["allow_anonymous"] == "false"
    assert mounts[settings["password_file"]] == "./deploy/mosquitto/passwd"
    assert mounts[settings["acl_file"]] == "./deploy/mosquitto/acl"
    assert mounts["/mosquitto/config/mosquitto.conf"] == "./deploy/mosquitto.conf"
    ignored = (ROOT / "deploy/mosquitto/.gitignore").read_text("utf-8").split()
    assert {"passwd", "acl"} <= set(ignored)  # credentials stay out of the repository


def test_the_hub_migrates_before_it_serves_and_reports_ready() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["fhub", "db", "upgrade"]
    hub = services["hub"]
    assert hub["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["environment"] == hub["environment"]
    assert hub["command"][:2] == ["fhub", "serve"]
    assert any("/readyz" in part for part in hub["healthcheck"]["test"])
    data_dir = hub["environment"]["FH_DATA_DIR"]
    assert _mounts(hub)[data_dir] == "hub-data"  # the evidence keys outlive the container


def test_every_long_running_service_has_a_healthcheck_the_others_wait_for() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        if name != "migrate":
            assert "healthcheck" in service, f"{name} has no healthcheck"
    for name, service in services.items():
        for needed, how in (service.get("depends_on") or {}).items():
            wanted = "service_completed_successfully" if needed == "migrate" else "service_healthy"
            assert how["condition"] == wanted, f"{name} does not wait for {needed}"


def test_the_influx_token_reaches_the_server_the_hub_and_grafana() -> None:
    services = _compose()["services"]
    token = services["influxdb"]["environment"]["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]
    assert services["hub"]["environment"]["FH_INFLUX_TOKEN"] == token
    assert services["grafana"]["environment"]["INFLUX_TOKEN"] == token
    grafana = _mounts(services["grafana"])
    assert grafana["/etc/grafana/provisioning"] == "./dashboards/grafana/provisioning"


def _compose_command() -> list[str] | None:
    """`docker compose` (the plugin) where it answers, else Debian's `docker-compose`."""
    docker = shutil.which("docker")
    if docker is not None:
        version = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, check=False
        )
        if version.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy is not None else None


def test_docker_compose_accepts_the_file() -> None:
    """Compose itself reads the file: variables, dependencies, healthchecks, mounts."""
    command = _compose_command()
    if command is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: neither `docker compose` nor `docker-compose` is installed")
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    result = subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **ENV},
    )
    assert result.returncode == 0, result.stderr
