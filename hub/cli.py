"""The `fhub` command line."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bridges import broker_cli
from hub import migrate
from hub.auth.enums import Role
from hub.cliopts import ConfigOpt, fail, settings_or_exit
from hub.clock import SystemClock
from hub.db import make_engine, session_factory, session_scope
from hub.errors import HubError
from hub.evidence import cli as evidence_cli
from hub.inspections import cli as inspections_cli
from hub.reports import cli as reports_cli
from hub.retention import cli as retention_cli
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.alarms.engine import RuleContext

app = typer.Typer(help="facility-hub: facility signals, alarms, work orders and complaints.")
db_app = typer.Typer(help="Database schema.")
users_app = typer.Typer(help="Users and API tokens.")
sites_app = typer.Typer(help="Sites.")
devices_app = typer.Typer(help="The device registry.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(sites_app, name="sites")
app.add_typer(devices_app, name="devices")
app.add_typer(evidence_cli.app, name="evidence")
app.add_typer(inspections_cli.app, name="inspections")
app.add_typer(broker_cli.app, name="broker")
app.add_typer(retention_cli.app, name="retention")
app.add_typer(reports_cli.app, name="reports")


def _settings(config: Path | None) -> Settings:
    settings = settings_or_exit(config)
    level = settings.log_level.upper()
    if level not in logging.getLevelNamesMapping():
        fail(f"FH_LOG_LEVEL {settings.log_level!r} is not a log level (DEBUG, INFO, WARNING, ...)")
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return settings


def _checked(config: Path | None, *, bridge: bool = True) -> tuple[Settings, RuleContext]:
    """Settings with every part of the configuration checked before anything starts.

    Exits with code 2 and one `error:` line on stderr: the settings themselves, the
    database URL, the broker URL (when the bridge runs), the rules file, the SLA overrides
    and the complaint desk's policy.
    """
    from sqlalchemy.exc import ArgumentError

    from hub.alarms.engine import rule_context
    from hub.complaints.policy import ComplaintPolicy
    from hub.db import normalise_url
    from hub.workorders.policy import SlaPolicy

    settings = _settings(config)
    try:
        normalise_url(settings.effective_database_url).get_dialect()
    except ArgumentError as exc:
        fail(f"FH_DATABASE_URL: {exc}")
    if bridge:
        scheme = settings.mqtt_url.scheme
        if scheme not in ("mqtt", "mqtts"):
            fail(f"FH_MQTT_URL: use mqtt:// or mqtts://, not {scheme}://")
        ca_file = settings.mqtt_ca_file
        if scheme == "mqtts" and ca_file is not None and not ca_file.is_file():
            fail(f"FH_MQTT_CA_FILE: no file {ca_file}")
    try:
        SlaPolicy(settings.sla)
    except HubError as exc:
        fail(f"FH_SLA: {exc.message}")
    rules = f"rules file {settings.rules_file}"
    try:
        ctx = rule_context(settings)
    except HubError as exc:
        message = exc.message
        if message.startswith("rules file:"):  # name the file
            message = rules + message.removeprefix("rules file")
        elif not message.startswith("rules file"):
            message = f"{rules}: {message}"
        fail(message)
    except (TypeError, AttributeError) as exc:
        # A value where the file wants a table, or a table where it wants a value.
        fail(f"{rules}: malformed ({exc})")
    try:
        ComplaintPolicy.from_settings(settings)
    except HubError as exc:
        known = exc.details.get("known") if isinstance(exc.details, dict) else None
        fail(f"{exc.message}; known: {', '.join(known)}" if known else exc.message)
    return settings, ctx


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None) -> None:
    """Apply migrations to the configured database."""
    settings = _settings(config)
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    typer.echo(f"database at {', '.join(sorted(migrate.current_heads(engine)))}", err=True)


@sites_app.command("add")
def sites_add(
    site_id: Annotated[str, typer.Option("--id", help="Site id as used in MQTT topics.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    config: ConfigOpt = None,
) -> None:
    """Register a site (idempotent)."""
    from hub.registry.importer import ID_PATTERN
    from hub.registry.service import get_or_create_site

    if not ID_PATTERN.match(site_id):
        typer.echo("error: site id must match [a-z0-9][a-z0-9_-]{0,63}", err=True)
        raise typer.Exit(2)
    settings = _settings(config)
    engine = make_engine(settings.effective_database_url)
    with session_scope(session_factory(engine)) as session:
        get_or_create_site(session=session, site_id=site_id, name=name, now=SystemClock().now())
    typer.echo(site_id)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Option("--name", help="User name.")],
    role: Annotated[Role, typer.Option("--role", help="Role.")],
    site: Annotated[list[str], typer.Option("--site", help="Site in scope (repeatable).")],
    head: Annotated[
        bool, typer.Option("--head", help="Heads the department of the role: dispatches it.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Create a user and print the new API token alone on stdout."""
    from hub.auth.service import create_user, issue_token

    settings = _settings(config)
    engine = make_engine(settings.effective_database_url)
    now = SystemClock().now()
    try:
        with session_scope(session_factory(engine)) as session:
            user = create_user(
                session=session, name=name, role=role, site_ids=site, now=now, department_head=head
            )
            token = issue_token(
                session=session,
                user=user,
                pepper=settings.token_pepper.get_secret_value(),
                now=now,
            )
    except HubError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(token)


@users_app.command("revoke")
def users_revoke(
    token_id: Annotated[
        int | None, typer.Option("--token-id", help="The token's id (see `fhub users tokens`).")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Every token of this user.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Revoke API tokens (by id, or all of a user's): they and their page sessions stop."""
    from hub.auth.service import revoke_token, tokens

    if (token_id is None) == (user is None):
        typer.echo("error: give --token-id or --user", err=True)
        raise typer.Exit(2)
    settings = _settings(config)
    engine = make_engine(settings.effective_database_url)
    now = SystemClock().now()
    with session_scope(session_factory(engine)) as session:
        found = [t for t in tokens(session=session) if t.id == token_id or t.user.name == user]
        if not found:
            typer.echo("error: no such token", err=True)
            raise typer.Exit(1)
        for row in found:
            revoke_token(session=session, token_id=row.id, now=now)
            typer.echo(f"revoked {row.id} {row.prefix}… of {row.user.name}")


@users_app.command("tokens")
def users_tokens(config: ConfigOpt = None) -> None:
    """List API tokens: id, prefix, user, revoked or not."""
    from hub.auth.service import tokens

    settings = _settings(config)
    engine = make_engine(settings.effective_database_url)
    with session_scope(session_factory(engine)) as session:
        for row in tokens(session=session):
            state = "revoked" if row.revoked_at is not None else "active"
            typer.echo(f"{row.id}\t{row.prefix}…\t{row.user.name}\t{state}")


@devices_app.command("import")
def devices_import(
    file: Annotated[Path, typer.Argument(help="CSV or JSON file of devices.", exists=True)],
    config: ConfigOpt = None,
) -> None:
    """Import devices; every row is checked and nothing is imported if any row is bad."""
    from hub.registry.importer import import_devices

    settings = _settings(config)
    engine = make_engine(settings.effective_database_url)
    with session_scope(session_factory(engine)) as session:
        report = import_devices(session=session, path=file, now=SystemClock().now())
        if not report.ok:
            session.rollback()
            for where, message in report.errors:
                typer.echo(f"{file}:{where}: {message}", err=True)
            typer.echo(f"{len(report.errors)} error(s); nothing imported", err=True)
            raise typer.Exit(1)
    typer.echo(f"imported: {report.created} created, {report.updated} updated")


def _serve_api(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from hub.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@app.command()
def serve(
    config: ConfigOpt = None,
    api: Annotated[bool, typer.Option("--api/--no-api", help="Serve the HTTP API.")] = True,
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="Run periodic jobs.")
    ] = True,
    host: Annotated[str | None, typer.Option(help="API bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="API port.")] = None,
    bridge: Annotated[
        bool, typer.Option("--bridge/--no-bridge", help="Ingest MQTT from the configured broker.")
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Bridge processes on one shared subscription (several need PostgreSQL).",
        ),
    ] = 1,
) -> None:
    """Run production roles against the configured broker and database."""

    from hub.scheduler import start_scheduler

    settings, ctx = _checked(config, bridge=bridge)
    try:
        settings.check_production()
    except ValueError as exc:
        fail(str(exc))
    engine = make_engine(settings.effective_database_url)
    try:
        current = migrate.is_current(engine)
    except Exception as exc:  # noqa: BLE001 - any failure here is the database's, said in one line
        fail(f"FH_DATABASE_URL: cannot reach the database ({type(exc).__name__}: {exc})")
    if not current:
        fail("the database is not at this version's schema: run `fhub db upgrade` first")
    _open_keyring(settings)
    pool = _start_workers(settings, engine, config, workers) if bridge and workers > 1 else None
    bridge = bridge and pool is None
    jobs = start_scheduler(settings, session_factory(engine), SystemClock()) if scheduler else None
    ingest = _start_bridge(settings, session_factory(engine), ctx) if bridge else None
    outbox = _start_outbox(settings, session_factory(engine)) if bridge else None
    from bridges.workers import stop_on_sigterm

    stop_on_sigterm()  # uvicorn hands SIGTERM back once it has stopped serving
    try:
        if api:
            _serve_api(settings, host or settings.api_host, port or settings.api_port)
        elif jobs is not None or ingest is not None or pool is not None:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        if pool is not None:
            pool.stop()
        if outbox is not None:
            outbox.stop()
        if ingest is not None:
            ingest.stop()
        if jobs is not None:
            jobs.shutdown(wait=False)


def _start_workers(settings: Settings, engine: Any, config: Path | None, count: int) -> Any:
    """`count` bridge processes on one shared subscription, supervised (`bridges.workers`)."""
    from bridges.workers import start_pool

    try:
        return start_pool(settings, engine.dialect.name, config, count)
    except ValueError as exc:
        fail(str(exc))


def _open_keyring(settings: Settings) -> None:
    """The evidence signing key, created in the key directory on first start."""
    from hub.evidence.keys import Keyring

    try:
        keyring = Keyring.open(settings.key_dir, now=SystemClock().now())
    except (OSError, ValueError) as exc:
        fail(f"evidence keys in {settings.key_dir}: {exc}")
    typer.echo(f"evidence signing key {keyring.current} ({settings.key_dir})", err=True)


def _start_bridge(settings: Settings, sessions: Any, ctx: RuleContext) -> Any:
    """Start the MQTT bridge on the configured broker (it reconnects on its own)."""
    from bridges import influx
    from bridges.live import live_sink
    from bridges.mqtt import Bridge, tune_gc
    from bridges.reactions import desk_reactions
    from bridges.workers import report_health_if_asked
    from hub.correlation.flows import Policies
    from hub.wiring import wire

    wire(sessions, settings=settings, clock=SystemClock())
    ingest = Bridge(settings, sessions, ctx=ctx)
    ingest.add_sink(
        "desk", desk_reactions(sessions, Policies.from_settings(settings), SystemClock())
    )
    influx.attach(ingest, settings)
    report_health_if_asked()
    ingest.add_sink("live", live_sink(sessions, SystemClock()))
    tune_gc()
    ingest.start()
    return ingest


def _start_outbox(settings: Settings, sessions: Any) -> Any:
    """Start publishing the hub's own messages (notices) from the outbox to the broker."""
    from bridges.outbox import OutboxPublisher

    publisher = OutboxPublisher(settings, sessions)
    publisher.start()
    return publisher


@app.command()
def demo(
    config: ConfigOpt = None,
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8000,
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "127.0.0.1",
    mqtt_port: Annotated[
        int | None,
        typer.Option(help="Port of the embedded MQTT broker [default: 1883, or a free one]."),
    ] = None,
    sim: Annotated[
        bool, typer.Option("--sim/--no-sim", help="Run the demo devices' simulators.")
    ] = True,
) -> None:
    """Everything on embedded defaults: SQLite, MQTT broker, bridge, simulators, the API."""

    from pydantic import AnyUrl

    from bridges.broker import EmbeddedBroker
    from hub.alarms.engine import rule_context
    from hub.demo import DEMO_SITE, seed_demo
    from hub.demo_crew import demo_settings, seed_lamps
    from hub.scheduler import start_scheduler

    # The demo runs its own broker, so FH_MQTT_URL is not checked.
    settings, ctx = _checked(config, bridge=False)
    settings = demo_settings(settings, DEMO_SITE)
    ctx = rule_context(settings)
    mqtt_port = _demo_mqtt_port(mqtt_port)
    settings = settings.model_copy(
        update={"mqtt_url": AnyUrl(f"mqtt://127.0.0.1:{mqtt_port}"), "mqtt_protocol": "3.1.1"}
    )
    _port_free(host, port)
    broker = EmbeddedBroker(port=mqtt_port)
    try:
        broker.start()
    except Exception as exc:  # noqa: BLE001 - reported to the user
        fail(f"cannot start the MQTT broker on port {mqtt_port}: {exc}", code=1)
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    _open_keyring(settings)
    clock = SystemClock()
    sessions = session_factory(engine)
    with session_scope(sessions) as session:
        seed = seed_demo(
            session=session, now=clock.now(), pepper=settings.token_pepper.get_secret_value()
        )
        seed_lamps(session=session, site_id=DEMO_SITE, now=clock.now())
    base = f"http://{host}:{port}"
    state = "created" if seed.created else "kept (existing data)"
    print(f"facility-hub demo — site {DEMO_SITE} {state}")
    print(f"  database   {engine.url.render_as_string(hide_password=True)}")
    print(f"  API        {base}/api/v1   docs {base}/docs   health {base}/healthz")
    print(f"  web pages  {base}/   (sign in with a demo token below)")
    print("  demo tokens (Authorization: Bearer <token>):")
    for user, token in seed.tokens.items():
        print(f"    {user:<11} {token}")
    print(f"  try: curl -H 'Authorization: Bearer fh_demo_manager' {base}/api/v1/work-orders")
    print(f"       curl -H 'Authorization: Bearer fh_demo_engineer' {base}/api/v1/alarms")
    print(f"  MQTT       {broker.url}   topics fh/{DEMO_SITE}/{{kind}}/{{device}}/{{channel}}")
    ingest = _start_bridge(settings, sessions, ctx)
    outbox = _start_outbox(settings, sessions)
    patrol_stop = threading.Event()
    simulator = (
        _start_demo_devices(settings, sessions, ctx, mqtt_port, base, patrol_stop) if sim else None
    )
    sys.stdout.flush()
    jobs = start_scheduler(settings, sessions, clock)
    try:
        _serve_api(settings, host, port)
    finally:
        patrol_stop.set()
        if simulator is not None:
            simulator.stop()
            time.sleep(0.5)
        outbox.stop()
        ingest.stop()
        broker.stop()
        jobs.shutdown(wait=False)


def _start_demo_devices(
    settings: Settings,
    sessions: Any,
    ctx: RuleContext,
    mqtt_port: int,
    base: str,
    stop: threading.Event,
) -> Any:
    """The demo devices' simulators with their scripted faults, and the demo's patrol."""
    from devices.simulator import Simulator
    from hub.demo import DEMO_SITE, DemoDispute, DemoPatrol, demo_devices, desk_post

    simulator = Simulator(host="127.0.0.1", port=mqtt_port, site=DEMO_SITE, devices=demo_devices())
    threading.Thread(target=simulator.run, name="fhub-sim", daemon=True).start()
    patrol = DemoPatrol(sessions, zone=settings.zone, rules=ctx.rules)
    threading.Thread(
        target=patrol.run, args=(simulator, SystemClock(), stop), name="fhub-patrol", daemon=True
    ).start()
    from hub.demo_crew import DemoCrew

    sims = {d.device_id: d for d in simulator.devices}
    for sim in simulator.devices:
        if sim.kind == "restroom":
            sim.memory["closed_loop"] = True  # refilled when their cleaning order resolves
    crew = DemoCrew(sessions, site_id=DEMO_SITE, policy=ctx.policy)
    threading.Thread(
        target=crew.run, args=(sims, SystemClock(), stop), name="fhub-crew", daemon=True
    ).start()
    dispute = DemoDispute(desk_post(base, "fh_demo_front_desk"))
    threading.Thread(
        target=dispute.run, args=(simulator, SystemClock(), stop, base), name="fhub-dispute",
        daemon=True,
    ).start()  # fmt: skip
    print("  simulators on: scripted faults start within a minute (leak, paper, lamps, gates)")
    print("  dispensers are refilled when their cleaning order resolves: forecast orders open")
    print(f"       before they run out: {base}/api/v1/forecasts")
    print(f"  the lamp shelf's reorder comes due: {base}/api/v1/parts/forecast")
    print("  a cleaner's patrol log will say the emptied paper box was fine: see")
    print(f"       {base}/api/v1/inspections/discrepancies (manager token)")
    print("  a driver will complain that the garage gate's arm hit the car: the dispute page")
    print(f"       {base}/manager/disputes/<complaint id> opens with what settles it")
    return simulator


def _port_free(host: str, port: int) -> None:
    """Exit with one line if the HTTP port is taken: before anything starts or is printed."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot serve HTTP on {host}:{port}: {exc.strerror or exc} (try --port)", code=1)


def _demo_mqtt_port(requested: int | None) -> int:
    """The requested port, or 1883 if free, else any free loopback port (said on stderr)."""
    import socket

    if requested is not None:
        return requested
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 1883))
            return 1883
        except OSError:
            pass
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    typer.echo(f"port 1883 is in use (another broker?); the embedded one takes {port}", err=True)
    return port


@app.command()
def simulate(
    config: ConfigOpt = None,
    site: Annotated[str, typer.Option(help="Site id used in the topics.")] = "sunshine-garden",
    devices: Annotated[
        str,
        typer.Option(
            help="`demo` (the demo site's devices) or a list `kind:id,kind:id`.",
        ),
    ] = "demo",
    rate: Annotated[float, typer.Option(help="Messages per second, all devices together.")] = 20.0,
    scenario: Annotated[
        str, typer.Option(help="normal, faults (scripted faults) or storm (full speed).")
    ] = "faults",
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed for repeatable runs.")] = None,
) -> None:
    """Device simulators against the configured broker (FH_MQTT_URL)."""
    from devices.simulator import Simulator, parse_device_list
    from hub.demo import demo_devices

    settings = _settings(config)
    try:
        pairs = demo_devices() if devices == "demo" else parse_device_list(devices)
        password = settings.mqtt_password
        simulator = Simulator(
            host=settings.mqtt_url.host or "127.0.0.1",
            port=settings.mqtt_url.port or 1883,
            site=site,
            devices=pairs,
            rate=rate,
            scenario=scenario,
            seed=seed,
            username=settings.mqtt_username,
            password=password.get_secret_value() if password else None,
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"simulating {len(pairs)} devices of {site} on {settings.mqtt_url} ({scenario})", err=True
    )
    try:
        sent = simulator.run(duration=duration)
    except KeyboardInterrupt:
        simulator.stop()
        sent = simulator.published
    except OSError as exc:
        typer.echo(f"error: cannot reach the broker {settings.mqtt_url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"published {sent} messages", err=True)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="A short run (under a minute).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the Markdown table (default: BENCHMARKS.md, none with --quick)."
        ),
    ] = None,
) -> None:
    """The benchmark suite: hub ingest against the raw MQTT ceiling, latency, memory."""
    from benchmarks.cli import bench as run_bench

    logging.basicConfig(level=logging.WARNING)
    target = output if output is not None else (None if quick else Path("BENCHMARKS.md"))
    run_bench(quick=quick, as_json=as_json, output=target)


def main() -> None:
    """Entry point of the `fhub` console script."""
    app()


if __name__ == "__main__":
    main()
