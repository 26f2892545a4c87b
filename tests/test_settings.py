"""Settings: defaults are the embedded ones; env FH_* and a TOML file configure the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.settings import Settings, load_settings


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FH_DATABASE_URL", "FH_DATA_DIR", "FH_MQTT_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.effective_database_url == "sqlite:///var/hub.db"
    assert str(settings.mqtt_url) == "mqtt://127.0.0.1:1883"
    with pytest.raises(ValueError, match="FH_TOKEN_PEPPER"):
        settings.check_production()


def test_environment_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(
        'database_url = "postgresql://fhub@db/fhub"\n'
        "api_port = 9000\n"
        'token_pepper = "s3cret-of-twenty-chars"\n'
        "[sla.engineering.urgent]\non_site = 3\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("FH_API_PORT", "9100")
    settings = load_settings(config)
    assert settings.database_url == "postgresql://fhub@db/fhub"
    assert settings.api_port == 9100  # the environment wins over the file
    assert settings.sla == {"engineering": {"urgent": {"on_site": 3}}}
    assert settings.token_pepper.get_secret_value() == "s3cret-of-twenty-chars"
    assert "s3cret-of-twenty-chars" not in repr(settings)
    settings.check_production()


def test_bad_values_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FH_API_PORT", "70000")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.delenv("FH_API_PORT")
    config = tmp_path / "hub.toml"
    config.write_text('no_such_setting = "x"\n', encoding="utf-8")
    with pytest.raises(ValidationError):
        load_settings(config)
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("", ()),
        ("zigbee2mqtt", ("zigbee2mqtt",)),
        (" tasmota , zigbee2mqtt,tasmota", ("tasmota", "zigbee2mqtt")),
    ],
)
def test_adapters_are_named_by_comma(
    monkeypatch: pytest.MonkeyPatch, value: str, names: tuple[str, ...]
) -> None:
    monkeypatch.setenv("FH_ADAPTERS", value)
    assert Settings().adapter_names == names


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FH_ADAPTERS", "hue"),
        ("FH_ZIGBEE2MQTT_BASE_TOPIC", "z2m/#"),
        ("FH_ZIGBEE2MQTT_BASE_TOPIC", "/z2m"),
        ("FH_QUARANTINE_LIMIT", "-1"),
        ("FH_QUARANTINE_LIMIT", "99999999999999999999"),
    ],
)
def test_bad_adapter_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.removeprefix("FH_").lower()):
        Settings()
