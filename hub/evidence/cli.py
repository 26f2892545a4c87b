"""`fhub evidence`: packs (export, verify offline), checks of the stored chains, keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.attachments.service import Store
from hub.cliopts import ConfigOpt, settings_or_exit, when_or_exit
from hub.clock import SystemClock
from hub.db import make_engine, session_factory, session_scope
from hub.errors import HubError
from hub.evidence import checkpoints, pack, timeline
from hub.evidence.chains import Expected
from hub.evidence.flows import check_site
from hub.evidence.keys import Keyring, key_id, unb64
from hub.evidence.verify import verify_pack
from hub.evidence.witness import Refused, Witness, check_pack
from hub.registry.models import Site

if TYPE_CHECKING:
    import httpx

app = typer.Typer(help="Dispute evidence: packs, offline verification, chain checks, keys.")


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Where to write the pack (ZIP).")],
    complaint: Annotated[int | None, typer.Option("--complaint", help="A complaint id.")] = None,
    work_order: Annotated[int | None, typer.Option("--work-order", help="An order id.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="A device id.")] = None,
    since: Annotated[str | None, typer.Option(help="Device window start (ISO-8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Device window end (ISO-8601).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Write a self-contained, signed evidence pack of a complaint, an order or a device."""
    from hub.complaints.models import Complaint
    from hub.registry.models import Device
    from hub.workorders.models import WorkOrder

    if sum(x is not None for x in (complaint, work_order, device)) != 1:
        typer.echo("error: give one of --complaint, --work-order, --device", err=True)
        raise typer.Exit(2)
    settings = settings_or_exit(config)
    now = SystemClock().now()
    keyring = Keyring.open(settings.key_dir, now=now)
    with session_scope(session_factory(make_engine(settings.effective_database_url))) as session:
        subject: timeline.Subject | None = None
        if complaint is not None and (c := session.get(Complaint, complaint)) is not None:
            subject = timeline.for_complaint(session=session, complaint=c, now=now)
        elif work_order is not None and (o := session.get(WorkOrder, work_order)) is not None:
            subject = timeline.for_order(session=session, order=o, now=now)
        elif device is not None and (d := session.get(Device, device)) is not None:
            end = when_or_exit(until, "until") or now
            start = when_or_exit(since, "since") or end - timeline.BEFORE
            subject = timeline.for_device(device=d, since=start, until=end)
        if subject is None:
            typer.echo("error: no such complaint, work order or device", err=True)
            raise typer.Exit(1)
        try:
            made = pack.build(
                session=session, subject=subject, keyring=keyring, now=now, zone=settings.zone,
                actor="fhub evidence export", photos=Store(settings.attachments_root),
            )  # fmt: skip
        except HubError as exc:
            for problem in exc.details or ():
                typer.echo(f"problem: {problem}", err=True)
            typer.echo(f"error: {exc.message}; no pack written", err=True)
            raise typer.Exit(1) from exc
    out.write_bytes(made.data)
    for problem in made.problems:
        typer.echo(f"problem: {problem}", err=True)
    typer.echo(f"wrote {out} ({len(made.data)} bytes, sha256 {made.sha256})")


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="A pack from `fhub evidence export`.", exists=True)],
    key: Annotated[
        str | None, typer.Option("--key", help="The hub's public key (base64) it must carry.")
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option("--witness", help="A witness's public key (base64) that must co-sign."),
    ] = None,
) -> None:
    """Check a pack offline, without the database: exit 0 only when every part is intact."""
    data = file.read_bytes()
    report = verify_pack(data, trusted=key)
    witnessed = check_pack(_members(data), witness or [])
    report.problems += witnessed.problems
    for signer in witnessed.signed:
        typer.echo(f"{file}: co-signed by witness {signer}")
    for problem in report.problems:
        typer.echo(f"{file}: {problem}", err=True)
    if not report.ok:
        typer.echo(f"{len(report.problems)} problem(s): the pack is not intact", err=True)
        raise typer.Exit(1)
    subject = report.manifest.get("subject", {})
    typer.echo(
        f"{file}: intact — {subject.get('type')} {subject.get('id')}, {report.records} records, "
        f"{report.signals} chained signals, signed by key {report.key_id}"
    )


def _members(data: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {n: archive.read(n) for n in archive.namelist()}
    except (zipfile.BadZipFile, OSError):
        return {}


def pack_expectations(path: Path) -> dict[str, list[Expected]]:
    """What a pack made earlier recorded of each device: its head and every link's digest."""
    import io
    import json
    import zipfile

    found: dict[str, list[Expected]] = {}
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        for name in archive.namelist():
            if name.startswith("chains/") and name.endswith(".jsonl"):
                device = name.removeprefix("chains/").removesuffix(".jsonl")
                for line in archive.read(name).splitlines():
                    row = json.loads(line)
                    found.setdefault(device, []).append(
                        Expected(int(row["position"]), str(row["digest"]), f"pack {path.name}")
                    )
    return found


@app.command("check")
def check(
    site: Annotated[str | None, typer.Option("--site", help="One site (default: all).")] = None,
    against: Annotated[
        list[Path] | None, typer.Option("--pack", help="A pack made earlier to compare with.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Walk every stored chain and checkpoint; name the first broken link of each device."""
    settings = settings_or_exit(config)
    keyring = Keyring.open(settings.key_dir, now=SystemClock().now())
    extra: dict[str, list[Expected]] = {}
    for path in against or ():
        for device, expected in pack_expectations(path).items():
            extra.setdefault(device, []).extend(expected)
    with session_scope(session_factory(make_engine(settings.effective_database_url))) as session:
        sites = (
            [site]
            if site
            else sorted(session.scalars(Site.__table__.select().with_only_columns(Site.id)))
        )
        problems: list[str] = []
        for site_id in sites:
            result = check_site(
                session=session, site_id=site_id, keyring=keyring, zone=settings.zone, extra=extra
            )
            problems += result.problems()
            typer.echo(
                f"{site_id}: {len(result.devices)} chains, {result.checkpoints} checkpoints, "
                f"{'intact' if result.ok else 'PROBLEMS'}"
            )
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint(config: ConfigOpt = None) -> None:
    """Sign a checkpoint of every site's chain heads now."""
    settings = settings_or_exit(config)
    now = SystemClock().now()
    keyring = Keyring.open(settings.key_dir, now=now)
    with session_scope(session_factory(make_engine(settings.effective_database_url))) as session:
        for site_id in sorted(session.scalars(Site.__table__.select().with_only_columns(Site.id))):
            try:
                row = checkpoints.make(session=session, site_id=site_id, keyring=keyring, now=now)
            except HubError as exc:
                typer.echo(f"error: {site_id}: {exc.message}", err=True)
                raise typer.Exit(1) from exc
            typer.echo(f"{site_id}: checkpoint {row.seq}, {row.tree_size} chains, root {row.root}")


@app.command("rotate-key")
def rotate_key(config: ConfigOpt = None) -> None:
    """Start signing with a new key; earlier public keys stay valid for earlier checkpoints."""
    settings = settings_or_exit(config)
    now = SystemClock().now()
    try:
        keyring = Keyring.open(settings.key_dir, now=now).rotate(now=now)
    except (OSError, ValueError, HubError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"signing with key {keyring.current}; {len(keyring.public_keys())} keys kept")


@app.command("witness")
def witness(
    hub: Annotated[str, typer.Option("--hub", help="The hub's base URL, e.g. https://hub:8000.")],
    token: Annotated[str, typer.Option("--token", help="An API token of a manager there.")],
    site: Annotated[str, typer.Option("--site", help="The site whose checkpoints to co-sign.")],
    directory: Annotated[
        Path, typer.Option("--dir", help="The witness's own key and state (never the hub's).")
    ],
    hub_key: Annotated[
        str | None, typer.Option("--hub-key", help="Pin the hub's public key (base64).")
    ] = None,
) -> None:
    """Co-sign the site's new checkpoints as an independent witness; refuse a forked or
    shrunk history (exit 1)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=hub.rstrip("/") + "/api/v1", headers=headers, timeout=30) as api:
        try:
            for line in cosign_new(api, Witness.open(directory), site=site, hub_key=hub_key):
                typer.echo(line)
        except Refused as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from exc


def cosign_new(api: httpx.Client, me: Witness, *, site: str, hub_key: str | None) -> Iterator[str]:
    """Fetch the site's checkpoints after the last one `me` signed, co-sign each in order and
    hand the co-signatures to the hub; a line per checkpoint (Refused stops it)."""
    if hub_key is not None:
        keys = {key_id(unb64(hub_key)): hub_key}
    else:
        published = api.get("/evidence/public-key").raise_for_status().json()
        keys = {k["key_id"]: k["public_key"] for k in published["keys"]}
    after = int(me.state().get(site, {}).get("seq") or 0)
    listed = api.get("/evidence/checkpoints", params={"site": site, "after": after})
    for shown in listed.raise_for_status().json()["items"]:
        cosigned = me.cosign(shown, hub_key=keys.get(str(shown.get("key_id")), ""))
        api.post(
            f"/evidence/checkpoints/{shown['seq']}/cosignatures", json={"site": site, **cosigned}
        ).raise_for_status()
        yield f"{site}: co-signed checkpoint {shown['seq']} as witness {me.id}"
