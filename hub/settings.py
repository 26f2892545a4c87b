"""One typed settings object for the whole hub: environment `FH_*`, an optional TOML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AnyUrl, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hub.localtime import zone_named

MIN_PEPPER_CHARS = 16
ADAPTER_NAMES = ("zigbee2mqtt", "tasmota")
"""The third-party formats `FH_ADAPTERS` may name (`bridges.adapters`)."""
DEFAULT_TOKEN_PEPPER = "facility-hub-demo-pepper"  # noqa: S105 - refused outside demo mode


class Settings(BaseSettings):
    """Everything the hub can be configured with; the defaults are the embedded ones."""

    model_config = SettingsConfigDict(env_prefix="FH_", extra="forbid", toml_file=None)

    data_dir: Path = Field(Path("var"), description="Where the embedded SQLite file and logs live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file `hub.db` under data_dir."
    )
    mqtt_url: AnyUrl = Field(
        AnyUrl("mqtt://127.0.0.1:1883"),
        description="Broker the bridge and simulators connect to (mqtt:// or mqtts://).",
    )
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_client_id: str | None = Field(
        None,
        description=(
            "The bridge's persistent-session client id. Unset: `fhub-{installation}-{worker}`,"
            " derived from the database and the lowest free worker slot (bridges.identity)."
        ),
    )
    mqtt_share_group: str | None = Field(
        None, description="Shared-subscription group so several bridge workers split one stream."
    )
    adapters: str = Field(
        "",
        description=(
            "Third-party device formats the bridge reads, comma-separated: zigbee2mqtt, tasmota."
            " Each device names its adapter and external id in the registry."
        ),
    )
    zigbee2mqtt_base_topic: str = Field(
        "zigbee2mqtt",
        pattern=r"^[^+#/\x00][^+#\x00]{0,63}$",
        description="zigbee2mqtt's base_topic.",
    )
    quarantine_limit: int = Field(
        1000,
        ge=0,
        le=1_000_000,
        description="Unknown adapter devices held for registration; more are dead-lettered.",
    )
    influx_url: AnyUrl | None = Field(None, description="InfluxDB v2 write endpoint; off if unset.")
    influx_token: SecretStr | None = None
    influx_org: str = "facility-hub"
    influx_bucket: str = "signals"
    influx_buffer_points: int = Field(
        500_000,
        ge=1000,
        description="Points the InfluxDB sink holds while the server is away (then the oldest go).",
    )
    influx_batch_points: int = Field(
        5000, ge=1, le=100_000, description="Points per write to InfluxDB."
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    token_pepper: SecretStr = Field(
        SecretStr(DEFAULT_TOKEN_PEPPER),
        description="Server-side secret mixed into API token hashes.",
    )
    timezone: str = Field("Asia/Shanghai", description="Local time zone for reports and the UI.")
    sla: dict[str, dict[str, dict[str, int]]] = Field(
        default_factory=dict,
        description="Overrides of the SLA policy: department -> priority -> step -> minutes.",
    )
    sla_check_seconds: int = Field(30, ge=1, description="How often the SLA watchdog runs.")
    rules_file: Path | None = Field(
        None, description="TOML file of per-site rule overrides (thresholds, durations, routing)."
    )
    rules_check_seconds: int = Field(
        5, ge=1, description="How often duration rules and heartbeats are evaluated."
    )
    correlation_check_seconds: int = Field(
        5,
        ge=1,
        description=(
            "How often the desk's reactions run: alarms linked back to complaints, notices"
            " for new orders, shut-off tasks for leak orders nobody was dispatched to."
        ),
    )
    mqtt_ca_file: Path | None = Field(None, description="CA bundle for mqtts:// brokers.")
    mqtt_keepalive: int = Field(30, ge=5, le=3600)
    mqtt_protocol: Literal["5", "3.1.1"] = Field(
        "5",
        description=(
            "MQTT version of the bridge. 5 lets it announce how many unacknowledged messages"
            " it holds (Receive Maximum), so acknowledging after commit does not shrink"
            " batches to the broker's default window; 3.1.1 for brokers without MQTT 5."
        ),
    )
    mqtt_session_expiry_s: int = Field(
        7 * 86400, ge=0, description="How long the broker keeps the bridge's session (MQTT 5)."
    )
    bridge_batch_size: int = Field(500, ge=1, le=10_000, description="Messages per transaction.")
    bridge_batch_wait_ms: int = Field(
        0,
        ge=0,
        le=10_000,
        description=(
            "How long a batch waits to fill. 0: it takes what is queued and goes, so batches"
            " stay small (low latency) when traffic is light and grow under load."
        ),
    )
    bridge_pipeline: int = Field(
        2,
        ge=1,
        le=8,
        description=(
            "Batches in progress at once on PostgreSQL: while one waits for the database the"
            " next is prepared. They still lock devices and acknowledge in arrival order."
            " SQLite writes one batch at a time."
        ),
    )
    bridge_queue_size: int = Field(
        20_000, ge=1, description="Received messages held before the bridge applies backpressure."
    )
    complaint_repeat_window_days: int = Field(
        30, ge=1, description="Same owner or unit, same problem within this many days: a repeat."
    )
    complaint_escalation_loss_yuan: int = Field(
        5000, ge=0, description="A direct loss above this (RMB) escalates to managers at once."
    )
    complaint_block_forbidden_phrases: bool = Field(
        False, description="Refuse a reply that contains a forbidden phrase instead of warning."
    )
    complaint_step_minutes: dict[str, int] = Field(
        default_factory=dict,
        description="Overrides of the complaint workflow's per-step minutes, e.g. verified = 15.",
    )
    inspection_check_seconds: int = Field(
        60, ge=1, description="How often patrol rounds and late-message re-checks run."
    )
    evidence_key_dir: Path | None = Field(
        None, description="Where the hub's Ed25519 evidence keys live; default data_dir/keys."
    )
    attachment_dir: Path | None = Field(
        None,
        description=(
            "Where uploaded photos are stored, each by its SHA-256; default data_dir/attachments."
            " Never pruned: evidence refers to them."
        ),
    )
    evidence_checkpoint_seconds: int = Field(
        300, ge=10, description="How often a signed checkpoint of every chain head is made."
    )
    forecast_check_seconds: int = Field(
        300,
        ge=1,
        description="How often dispenser and battery forecasts and parts' reorders are updated.",
    )
    retention_days: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "Days raw telemetry is kept, per device kind (e.g. light = 30); a kind not named"
            " is kept for good. State changes, events and referenced signals are always kept."
        ),
    )
    retention_check_seconds: int = Field(
        3600, ge=60, description="How often the retention job prunes old telemetry."
    )
    retention_batch: int = Field(
        5000, ge=1, le=100_000, description="Signals deleted per retention transaction."
    )
    report_check_seconds: int = Field(
        60,
        ge=1,
        description=(
            "How often the scheduler looks whether a weekly, half-monthly or monthly report"
            " run is due (the runs themselves follow local midnights)."
        ),
    )
    report_recipients: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "Department heads the scheduled reports are mailed to: department -> addresses,"
            ' e.g. engineering = ["eng-head@example.com"].'
        ),
    )
    smtp_host: str | None = Field(None, description="SMTP server for report mail; off if unset.")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field("facility-hub@localhost", description="Sender of report mail.")
    callback_reminder_minutes: int = Field(
        30,
        ge=1,
        description="Remind the desk of a callback (回访) this many minutes before it is due.",
    )
    callback_check_seconds: int = Field(
        60, ge=1, description="How often due callbacks are looked for to remind the desk."
    )
    log_level: str = "INFO"
    stream_max_seconds: float = Field(
        900, gt=0, le=86_400, description="A live stream's longest life; the page resumes by id."
    )
    stream_ping_seconds: float = Field(15, gt=0, le=300, description="Live stream heartbeats.")
    db_pool_size: int = Field(
        10,
        ge=1,
        le=1000,
        description=(
            "Database connections the API process keeps (a page and its API calls use one at"
            " a time): at least `web_in_flight` and a few for the live streams."
        ),
    )
    db_pool_overflow: int = Field(
        5, ge=0, le=1000, description="Connections opened past the pool under a burst."
    )
    db_pool_timeout_seconds: float = Field(
        10, gt=0, le=300, description="How long a request waits for a connection (then 503)."
    )
    web_in_flight: int = Field(
        8,
        ge=1,
        le=1000,
        description=(
            "Pages and API requests worked on at once; more wait in the queue. On a few cores"
            " more at once only share the same CPU."
        ),
    )
    web_queue: int = Field(
        32, ge=0, le=100_000, description="Requests waiting for a place; past that, 503 at once."
    )
    web_queue_seconds: float = Field(
        2, ge=0, le=300, description="How long a request waits for a place before its 503."
    )
    web_retry_after_seconds: int = Field(
        2, ge=1, le=3600, description="The `Retry-After` of a 503 when the hub is busy."
    )
    web_streams: int = Field(
        1000, ge=1, le=100_000, description="Live streams open at once; past that, 503."
    )

    @field_validator("adapters")
    @classmethod
    def _known_adapters(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = sorted(set(names) - set(ADAPTER_NAMES))
        if unknown:
            raise ValueError(f"unknown adapters {unknown}: use {', '.join(ADAPTER_NAMES)}")
        return ",".join(dict.fromkeys(names))

    @property
    def adapter_names(self) -> tuple[str, ...]:
        """The adapters switched on, in the order given."""
        return tuple(n for n in self.adapters.split(",") if n)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_named(value)
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The local time zone people read times in."""
        return zone_named(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Precedence: explicit values, then `FH_*` variables, then the TOML file."""
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').as_posix()}"

    @property
    def key_dir(self) -> Path:
        """The directory of the evidence signing keys."""
        return self.evidence_key_dir or self.data_dir / "keys"

    @property
    def attachments_root(self) -> Path:
        """The directory of the uploaded photos."""
        return self.attachment_dir or self.data_dir / "attachments"

    def check_production(self) -> None:
        """Refuse to run production roles on the demo secrets."""
        pepper = self.token_pepper.get_secret_value()
        if pepper == DEFAULT_TOKEN_PEPPER:
            raise ValueError(
                "FH_TOKEN_PEPPER is still the demo default; set a secret before `fhub serve`"
            )
        if len(pepper) < MIN_PEPPER_CHARS:
            raise ValueError(
                f"FH_TOKEN_PEPPER is {len(pepper)} characters; use a random secret of at least "
                f"{MIN_PEPPER_CHARS}, e.g. from `openssl rand -base64 32`"
            )


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment and, if given, a TOML file (env wins over the file)."""
    if config_file is None:
        return Settings(**overrides)
    if not config_file.is_file():
        raise FileNotFoundError(f"config file not found: {config_file}")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=config_file)

    return Settings.model_validate(_FromFile(**overrides).model_dump())
