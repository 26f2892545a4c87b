"""`fhub broker`: the embedded broker, per-device credentials, and Mosquitto's files.

```
fhub broker [--port 1883] [--auth]                 # the embedded broker (auth: hub logins only)
fhub broker credentials --device leak-b3-f12       # username,password once on stdout
fhub broker credentials --site sunshine-garden     # every device of the site still without one
fhub broker credentials --bridge                   # the hub's own login (FH_MQTT_USERNAME)
fhub broker credentials --integration erp          # reads fh/+/hub/#
fhub broker credentials --gateway z2m-b3           # a zigbee2mqtt gateway
fhub broker logins | revoke USER
fhub broker acl --format mosquitto --out deploy/mosquitto
```
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.cliopts import ConfigOpt, settings_or_exit
from hub.clock import SystemClock
from hub.db import make_engine, session_factory, session_scope
from hub.errors import HubError
from hub.registry import credentials
from hub.registry.acl import Policy, mosquitto_acl, mosquitto_passwd
from hub.registry.enums import BrokerRole
from hub.registry.models import BrokerCredential, Device
from hub.settings import Settings

app = typer.Typer(
    help="The MQTT broker: the embedded one, broker logins, Mosquitto's password file and ACL.",
    invoke_without_command=True,
)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return session_factory(make_engine(settings.effective_database_url))


def bridge_reads(settings: Settings) -> tuple[str, ...]:
    """The adapters' topic roots the hub's bridge subscribes to, beside `fh/#`."""
    from bridges.adapters import Adapters  # the ingest side: only when it is needed

    adapters = Adapters.from_settings(settings)
    return adapters.roots() if adapters else ()


def policy_loader(settings: Settings, sessions: sessionmaker[Session]) -> Callable[[], Policy]:
    """Reads the broker policy from the database's credentials."""

    def load() -> Policy:
        with sessions() as session:
            logins = credentials.logins(session=session)
        return Policy(
            logins,
            bridge_reads=bridge_reads(settings),
            gateway_base=settings.zigbee2mqtt_base_topic,
        )

    return load


@app.callback()
def run(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="MQTT port.")] = 1883,
    auth: Annotated[
        bool,
        typer.Option(
            "--auth/--no-auth",
            help="Only the hub's broker credentials, each to its own topics (default: open).",
        ),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Run the embedded MQTT broker alone (for development; use Mosquitto in production)."""
    if ctx.invoked_subcommand is not None:
        return
    from bridges.broker import EmbeddedBroker

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    policy = None
    if auth:
        from bridges.broker_auth import PolicySource

        settings = settings_or_exit(config)
        policy = PolicySource(policy_loader(settings, _sessions(settings)))
    embedded = EmbeddedBroker(host=host, port=port, policy=policy)
    embedded.start()
    how = "hub credentials only" if auth else "open to anyone"
    typer.echo(f"MQTT broker on {embedded.url}, {how} (Ctrl-C stops it)", err=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        embedded.stop()


@app.command("credentials")
def issue_credentials(
    device: Annotated[
        list[str] | None, typer.Option("--device", help="A device's login (repeatable).")
    ] = None,
    site: Annotated[
        str | None, typer.Option("--site", help="Every device of the site that has no login.")
    ] = None,
    bridge: Annotated[bool, typer.Option("--bridge", help="The hub's own login.")] = False,
    integration: Annotated[
        str | None, typer.Option("--integration", help="An integration's login (this name).")
    ] = None,
    gateway: Annotated[
        str | None, typer.Option("--gateway", help="A zigbee2mqtt gateway's login (this name).")
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", help="The login's name (default: device id).")
    ] = None,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Replace an existing login's password.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Issue broker logins; prints `username,password` per login, once: only hashes are kept."""
    settings = settings_or_exit(config)
    sessions = _sessions(settings)
    now = SystemClock().now()
    issued: list[tuple[str, str]] = []
    try:
        with session_scope(sessions) as session:
            wanted = _wanted(session, device or [], site, bridge, integration, gateway, username)
            if not wanted:
                typer.echo(
                    "error: name --device, --site, --bridge, --integration or --gateway", err=True
                )
                raise typer.Exit(2)
            for role, device_id, name in wanted:
                cred, password = credentials.issue(
                    session=session,
                    role=role,
                    now=now,
                    device_id=device_id,
                    username=name,
                    rotate=rotate,
                )
                issued.append((cred.username, password))
    except HubError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    for name, password in issued:
        typer.echo(f"{name},{password}")
    typer.echo(
        f"{len(issued)} login(s) issued; the passwords are not kept: store them now, then run"
        " `fhub broker acl` and reload the broker",
        err=True,
    )


def _wanted(
    session: Session,
    devices: list[str],
    site: str | None,
    bridge: bool,
    integration: str | None,
    gateway: str | None,
    username: str | None,
) -> list[tuple[BrokerRole, str | None, str | None]]:
    """The logins a `credentials` call asks for: (role, device, username)."""
    wanted: list[tuple[BrokerRole, str | None, str | None]] = []
    single = username if len(devices) == 1 and not site else None
    wanted += [(BrokerRole.device, d, single) for d in devices]
    if site is not None:
        has = select(BrokerCredential.device_id).where(BrokerCredential.device_id.is_not(None))
        ids = session.scalars(
            select(Device.id)
            .where(Device.site_id == site, Device.id.not_in(has))
            .where((Device.adapter.is_(None)) | (Device.adapter != "zigbee2mqtt"))
            .order_by(Device.id)
        )
        wanted += [(BrokerRole.device, d, None) for d in ids]
    if bridge:
        wanted.append((BrokerRole.bridge, None, username if not devices else None))
    if integration:
        wanted.append((BrokerRole.integration, None, integration))
    if gateway:
        wanted.append((BrokerRole.gateway, None, gateway))
    return wanted


@app.command("logins")
def list_logins(config: ConfigOpt = None) -> None:
    """The broker logins the hub has issued (never their passwords)."""
    settings = settings_or_exit(config)
    with _sessions(settings)() as session:
        for login in credentials.logins(session=session):
            typer.echo(f"{login.username}\t{login.role}\t{login.device or ''}")


@app.command("revoke")
def revoke(
    username: Annotated[str, typer.Argument(help="The login to remove.")],
    config: ConfigOpt = None,
) -> None:
    """Remove a login; Mosquitto refuses it once `fhub broker acl` has written its files again."""
    settings = settings_or_exit(config)
    try:
        with session_scope(_sessions(settings)) as session:
            credentials.revoke(session=session, username=username)
    except HubError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"revoked {username}", err=True)


@app.command("acl")
def write_acl(
    out: Annotated[Path, typer.Option("--out", help="Directory for `passwd` and `acl`.")],
    file_format: Annotated[
        Literal["mosquitto"], typer.Option("--format", help="The broker's file format.")
    ] = "mosquitto",
    config: ConfigOpt = None,
) -> None:
    """Write the broker's password file and ACL from the hub's logins."""
    settings = settings_or_exit(config)
    with _sessions(settings)() as session:
        logins = credentials.logins(session=session)
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "passwd", mosquitto_passwd(logins), mode=0o600)
    acl = mosquitto_acl(
        logins, bridge_reads=bridge_reads(settings), gateway_base=settings.zigbee2mqtt_base_topic
    )
    _write(out / "acl", acl, mode=0o644)
    typer.echo(
        f"wrote {out / 'passwd'} and {out / 'acl'} ({len(logins)} logins, {file_format});"
        " reload Mosquitto (SIGHUP) to apply them",
        err=True,
    )


def _write(path: Path, text: str, *, mode: int) -> None:
    """Replace `path` at once, so a broker reloading meanwhile reads the old or the new file."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(partial, mode)
    partial.replace(path)
