"""Making an evidence pack: one ZIP a manager hands over, checked offline by `verify_pack`.

Files (each canonical JSON, RFC 8785, listed with its SHA-256 in the signed manifest):
`records.jsonl` (the timeline), `chains/<device>.jsonl` (each link from the first signal of
the window to the head in the checkpoint: body, prev, digest), `checkpoint.json` (made at
export, signed), `proofs.json` (each head's inclusion proof), `keys.json`,
`witnesses.json` (the newest co-signed checkpoint and its witnesses' co-signatures),
`summary.html` and the same as `summary.pdf` (findings, the events that matter, the
integrity statement; CJK fonts).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from hub.attachments.service import Store
from hub.errors import Conflict
from hub.evidence import chains, checkpoints, printing, summary
from hub.evidence.canonical import canonical
from hub.evidence.findings import findings
from hub.evidence.flows import SiteCheck, check_site
from hub.evidence.keys import Keyring
from hub.evidence.models import Checkpoint, Export
from hub.evidence.timeline import Subject, deadlines, device_kinds, entries
from hub.evidence.verify import FORMAT, MANIFEST, SIGNATURE
from hub.localtime import shown
from hub.registry.models import Site


@dataclass(frozen=True)
class Pack:
    """A made pack: its bytes and digest."""

    data: bytes
    sha256: str
    export_id: int
    problems: list[str]


def jsonable(record: dict[str, Any]) -> dict[str, Any]:
    out = {**record, "at": record["at"].isoformat()}
    if isinstance(record.get("received_at"), datetime):
        out["received_at"] = record["received_at"].isoformat()
    return out


def _lines(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(canonical(r) + b"\n" for r in rows)


def _link(item: chains.Link) -> dict[str, Any]:
    return {
        "position": item.position,
        "id": item.id,
        "ts": item.ts.isoformat(),
        "body": item.body.decode(),
        "prev": item.prev,
        "digest": item.digest,
    }


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), files[name])
    return buffer.getvalue()


def integrity_of(
    check: SiteCheck, *, keyring: Keyring, checkpoint: dict[str, Any]
) -> dict[str, Any]:
    """The integrity block of a timeline or pack."""
    return {
        "verified": check.ok,
        "chains": [
            {
                "device_id": r.device_id,
                "first": r.first.isoformat() if r.first else None,
                "last": r.last.isoformat() if r.last else None,
                "count": r.count,
                "head": r.head,
            }
            for r in check.devices
        ],  # fmt: skip
        "problems": check.problems(),
        "checkpoint": checkpoint,
        "key_id": checkpoint.get("key_id", keyring.current),
        "public_key": keyring.public_keys()[checkpoint.get("key_id", keyring.current)].public_key,
    }


def summary_html(
    *,
    session: Session,
    subject: Subject,
    records: list[dict[str, Any]],
    found: list[dict[str, Any]],
    integrity: dict[str, Any],
    now: datetime,
    zone: tzinfo,
) -> str:
    """The printable summary of a subject's timeline (the pack's, and `?format=pdf`)."""
    site = session.get(Site, subject.site_id)
    return summary.render(
        subject={"type": subject.type, "id": subject.id},
        window={"since": shown(subject.since, zone), "until": shown(subject.until, zone)},
        records=records,
        integrity=integrity,
        site_name=site.name if site else subject.site_id,
        made_at=shown(now, zone),
        findings=found,
    )


def _vouched(*, session: Session, subject: Subject, keyring: Keyring, zone: tzinfo) -> SiteCheck:
    """The check of the subject's chains and the site's checkpoints, or `Conflict`."""
    check = check_site(
        session=session,
        site_id=subject.site_id,
        keyring=keyring,
        zone=zone,
        device_ids=subject.device_ids,
    )
    if not check.ok:
        raise Conflict(
            "the evidence is not intact: no pack can vouch for it", details=check.problems()
        )
    return check


def _photos(
    records: list[dict[str, Any]], store: Store | None
) -> tuple[dict[str, bytes], list[str]]:
    """The files of the timeline's photos, and which of them the store has lost."""
    files: dict[str, bytes] = {}
    lost: list[str] = []
    for record in records:
        digest = record["digest"]
        if record["type"] != "attachment" or f"attachments/{digest}" in files:
            continue
        path = store.path_of(digest) if store is not None else None
        if path is None or not path.is_file():
            lost.append(f"the photo of attachment {record['ref']['id']} is missing from the store")
            continue
        files[f"attachments/{digest}"] = path.read_bytes()
    return files, lost


def _chain_files(
    session: Session, subject: Subject, checkpoint: Checkpoint, keyring: Keyring
) -> dict[str, bytes]:
    """Each device's chain segment up to its head in the checkpoint, and the heads' proofs."""
    files: dict[str, bytes] = {}
    proofs: dict[str, Any] = {}
    heads = {d: int(n) for d, n, _h in checkpoint.heads}
    keys = {kid: key.public_key for kid, key in keyring.public_keys().items()}
    for device_id in subject.device_ids:
        if device_id not in heads:
            continue
        proofs[device_id] = checkpoints.proof(checkpoint, device_id)
        runs, _problems = chains.pruned_runs(session=session, device_id=device_id, keys=keys)
        segment, _ = chains.segment(
            session=session,
            device_id=device_id,
            since=subject.since,
            upto=heads[device_id],
            runs=runs,
        )
        rows: list[dict[str, Any]] = []
        for n, item in enumerate(segment):
            if n:  # the runs before the first link lie before the segment
                rows += [{"pruned": run.record()} for run in item.pruned]
            rows.append(_link(item))
        files[f"chains/{device_id}.jsonl"] = _lines(rows)
    files["proofs.json"] = canonical(proofs)
    return files


def build(
    *,
    session: Session,
    subject: Subject,
    keyring: Keyring,
    now: datetime,
    zone: tzinfo,
    actor: str,
    photos: Store | None = None,
) -> Pack:
    """Write the pack of `subject`; a new signed checkpoint of its site is made for it.

    A pack cannot vouch for a tampered chain: when the check of the subject's chains and of
    the site's checkpoints finds a problem, or a photo of the timeline is missing from the
    attachment store (`photos`), no checkpoint is made and no pack written (`Conflict`, a
    409, naming the problems).
    """
    check = _vouched(session=session, subject=subject, keyring=keyring, zone=zone)
    records, _ = entries(session=session, subject=subject, zone=zone, limit=10_000_000)
    files, lost = _photos(records, photos)
    if lost:
        raise Conflict("the evidence is not intact: no pack can vouch for it", details=lost)
    checkpoint = checkpoints.make(
        session=session, site_id=subject.site_id, keyring=keyring, now=now
    )
    statement = checkpoints.as_statement(checkpoint)
    files["records.jsonl"] = _lines([jsonable(r) for r in records])
    files.update(_chain_files(session, subject, checkpoint, keyring))
    files["checkpoint.json"] = canonical(statement)
    witnessed = checkpoints.cosigned(session=session, site_id=subject.site_id, upto=checkpoint.seq)
    files["witnesses.json"] = canonical(witnessed or {})
    files["keys.json"] = canonical({k: v.public_key for k, v in keyring.public_keys().items()})
    found = findings(
        records,
        kinds=device_kinds(session=session, subject=subject),
        deadlines=deadlines(session=session, subject=subject),
        zone=zone,
    )
    page = summary_html(
        session=session, subject=subject, records=records, found=found, now=now, zone=zone,
        integrity=integrity_of(check, keyring=keyring, checkpoint=statement),
    )  # fmt: skip
    files["summary.html"] = page.encode("utf-8")
    files["summary.pdf"] = printing.pdf(page)
    manifest = {
        "format": FORMAT,
        "site": subject.site_id,
        "subject": {"type": subject.type, "id": subject.id},
        "window": {"since": subject.since.isoformat(), "until": subject.until.isoformat()},
        "created_at": now.isoformat(),
        "created_by": actor,
        "checkpoint_digest": checkpoint.digest,
        "key_id": keyring.current,
        "problems_at_export": check.problems(),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files[MANIFEST] = canonical(manifest)
    files[SIGNATURE] = keyring.sign(files[MANIFEST]).encode()
    data = _zip(files)
    digest = hashlib.sha256(data).hexdigest()
    row = Export(
        site_id=subject.site_id, subject_type=subject.type, subject_id=subject.id, created_at=now,
        created_by=actor, checkpoint_id=checkpoint.id, sha256=digest, size=len(data),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return Pack(data, digest, row.id, check.problems())
