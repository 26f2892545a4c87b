"""Signed checkpoints: a Merkle tree over every chain head of a site, signed, append-only.

Each checkpoint carries its sequence number in the site and the digest of the one before
it, and is signed with the hub's key, whose private half is not in the database. A row
edited, removed from the middle or forged shows when the checkpoints are checked.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from hub.errors import Conflict, InvalidInput, NotFound
from hub.evidence.canonical import canonical
from hub.evidence.chains import Expected
from hub.evidence.keys import Keyring, verify_signature
from hub.evidence.merkle import MerkleTree
from hub.evidence.models import Checkpoint, Cosignature
from hub.evidence.verify import GENESIS, checkpoint_statement, leaf_of
from hub.evidence.witness import cosignature_problem
from hub.localtime import shown
from hub.outbox.service import enqueue
from hub.registry.models import Device
from hub.signals.models import DeviceState


def site_heads(*, session: Session, site_id: str) -> list[tuple[str, int, str]]:
    """Every device of the site with a chain: (device, count, head), by device id."""
    rows = session.execute(
        select(DeviceState.device_id, DeviceState.signal_count, DeviceState.head_digest)
        .join(Device, Device.id == DeviceState.device_id)
        .where(Device.site_id == site_id, DeviceState.signal_count > 0)
        .order_by(DeviceState.device_id)
    )
    return [(d, int(n), h) for d, n, h in rows]


def as_statement(row: Checkpoint) -> dict[str, Any]:
    """The signed fields of a checkpoint, with its signature."""
    return {
        "at": row.created_at.isoformat(),
        "key_id": row.key_id,
        "prev": row.prev,
        "root": row.root,
        "seq": row.seq,
        "site": row.site_id,
        "tree_size": row.tree_size,
        "signature": row.signature,
    }


def tree(row: Checkpoint) -> MerkleTree:
    """The Merkle tree of a checkpoint's heads."""
    return MerkleTree([leaf_of(d, int(n), str(h)) for d, n, h in row.heads])


def latest(*, session: Session, site_id: str) -> Checkpoint | None:
    """The site's newest checkpoint."""
    return session.scalar(
        select(Checkpoint).where(Checkpoint.site_id == site_id).order_by(Checkpoint.seq.desc())
    )


def make(*, session: Session, site_id: str, keyring: Keyring, now: datetime) -> Checkpoint:
    """Sign the site's chain heads as they stand now (a new checkpoint, always).

    Never over a head that disagrees with the last checkpoint: a chain shorter than it
    recorded, one as long with another head, or one gone is a `Conflict`, no checkpoint.
    """
    heads = site_heads(session=session, site_id=site_id)
    before = latest(session=session, site_id=site_id)
    published = journal(keyring.directory, site_id)
    if published and published[-1].get("seq", 0) > (before.seq if before else 0):
        raise Conflict(
            f"checkpoint {published[-1].get('seq')} was published but is not in the database: "
            "none is signed until the checkpoints are restored",
            details=[f"{site_id}: checkpoints were deleted from the database"],
        )
    if before is not None:
        disagree = disagreements(before, heads)
        if disagree:
            raise Conflict(
                f"checkpoint {before.seq} disagrees with the chain heads now: none is signed",
                details=disagree,
            )
    row = Checkpoint(
        site_id=site_id,
        seq=before.seq + 1 if before else 1,
        created_at=now,
        tree_size=len(heads),
        heads=[list(h) for h in heads],
        prev=before.digest if before else GENESIS,
        key_id=keyring.current,
    )
    row.root = tree(row).root().hex()
    statement = checkpoint_statement(as_statement(row))
    row.digest = hashlib.sha256(statement).hexdigest()
    row.signature = keyring.sign(statement)
    session.add(row)
    session.flush()
    line = canonical({**as_statement(row), "digest": row.digest, "heads": row.heads})
    event.listen(
        session, "after_commit", lambda _s: _publish(keyring.directory, site_id, line), once=True
    )
    enqueue(
        session=session,
        topic=f"fh/{site_id}/hub/checkpoint",
        payload={**as_statement(row), "digest": row.digest},
        now=now,
    )
    return row


JOURNAL = "checkpoints"
"""Beside the keys (outside the database), one file per site: every checkpoint signed,
a line each, appended once its transaction committed."""


def _journal_file(directory: Path, site_id: str) -> Path:
    return directory / JOURNAL / f"{site_id}.jsonl"


def _publish(directory: Path, site_id: str, line: bytes) -> None:
    path = _journal_file(directory, site_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as out:
        out.write(line + b"\n")
        out.flush()
        os.fsync(out.fileno())


def journal(directory: Path, site_id: str) -> list[dict[str, Any]]:
    """The checkpoints published for the site, in the order they were appended."""
    path = _journal_file(directory, site_id)
    if not path.exists():
        return []
    found = []
    for raw in path.read_bytes().splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = {"seq": -1}
        found.append(entry if isinstance(entry, dict) else {"seq": -1})
    return found


def check_journal(
    *, rows: Sequence[Checkpoint], published: Sequence[dict[str, Any]], keyring: Keyring
) -> tuple[list[str], dict[str, list[Expected]]]:
    """The published checkpoints against the stored ones: a gap or a restart in the numbers,
    a published one missing from the database or differing, is a problem; what the sound
    published ones say of each device is expected of its chain."""
    problems: list[str] = []
    expected: dict[str, list[Expected]] = {}
    stored = {row.seq: row.digest for row in rows}
    keys = keyring.public_keys()
    for number, entry in enumerate(published, start=1):
        seq = entry.get("seq")
        name = f"published checkpoint {seq}"
        if seq != number:
            problems.append(f"{name} is number {number} of the journal: a gap or a restart")
        try:
            statement = checkpoint_statement(entry)
            key = keys.get(str(entry.get("key_id")))
            sound = key is not None and verify_signature(
                key.public_key, statement, str(entry.get("signature"))
            )
        except (KeyError, TypeError):
            sound = False
        if not sound:
            problems.append(f"{name}: its signature does not verify")
            continue
        if not isinstance(seq, int) or stored.get(seq) != entry.get("digest"):
            problems.append(f"{name} is not in the database as published (deleted or rewritten)")
        for device, count, head in entry.get("heads", ()):
            expected.setdefault(device, []).append(Expected(int(count), str(head), name))
    return problems, expected


def disagreements(before: Checkpoint, heads: Sequence[tuple[str, int, str]]) -> list[str]:
    """Devices whose chain head now cannot follow from the one `before` signed."""
    now = {device: (count, head) for device, count, head in heads}
    found = []
    for device, count, head in before.heads:
        current = now.get(str(device))
        if current is None:
            found.append(f"{device}: its chain is gone (checkpoint {before.seq} had {count})")
        elif current[0] < int(count):
            found.append(
                f"{device}: {current[0]} signals, checkpoint {before.seq} had {count}: "
                "signals were deleted from its end"
            )
        elif current[0] == int(count) and current[1] != head:
            found.append(f"{device}: the head is not the one checkpoint {before.seq} signed")
    return found


def if_changed(
    *, session: Session, site_id: str, keyring: Keyring, now: datetime
) -> Checkpoint | None:
    """A new checkpoint when any head moved since the last one; None otherwise."""
    before = latest(session=session, site_id=site_id)
    heads = [list(h) for h in site_heads(session=session, site_id=site_id)]
    if before is not None and before.heads == heads:
        return None
    if before is None and not heads:
        return None
    return make(session=session, site_id=site_id, keyring=keyring, now=now)


def proof(row: Checkpoint, device_id: str) -> dict[str, Any]:
    """The inclusion proof of a device's head in the checkpoint."""
    for index, (device, count, head) in enumerate(row.heads):
        if device == device_id:
            path = tree(row).proof(index)
            return {"index": index, "count": count, "head": head, "path": [p.hex() for p in path]}
    raise KeyError(device_id)


def all_of(*, session: Session, site_id: str) -> Sequence[Checkpoint]:
    """The site's checkpoints in order."""
    return session.scalars(
        select(Checkpoint).where(Checkpoint.site_id == site_id).order_by(Checkpoint.seq)
    ).all()


def check(
    *, rows: Sequence[Checkpoint], keyring: Keyring, zone: tzinfo
) -> tuple[list[str], dict[str, list[Expected]]]:
    """Problems of the checkpoints themselves, and what the sound ones say of each device."""
    problems: list[str] = []
    expected: dict[str, list[Expected]] = {}
    keys = keyring.public_keys()
    prev = GENESIS
    for number, row in enumerate(rows, start=1):
        name = f"checkpoint {row.seq} of {shown(row.created_at, zone)}"
        statement = checkpoint_statement(as_statement(row))
        sound = True
        if row.seq != number:
            problems.append(f"checkpoint {number} is missing (the next one is {row.seq})")
        if row.prev != prev:
            problems.append(f"{name} does not follow the checkpoint before it")
        key = keys.get(row.key_id)
        if key is None or not verify_signature(key.public_key, statement, row.signature):
            problems.append(f"{name}: the signature does not verify (edited or forged)")
            sound = False
        if (
            hashlib.sha256(statement).hexdigest() != row.digest
            or tree(row).root().hex() != row.root
        ):
            problems.append(f"{name}: its heads or digest were edited")
            sound = False
        prev = row.digest
        if sound:
            for device, count, head in row.heads:
                expected.setdefault(device, []).append(Expected(int(count), str(head), name))
    return problems, expected


def shown_to_witness(row: Checkpoint) -> dict[str, Any]:
    """A checkpoint as a witness reads it: the signed statement, its heads, its digest."""
    return {**as_statement(row), "heads": [list(h) for h in row.heads], "digest": row.digest}


def after(*, session: Session, site_id: str, seq: int, limit: int) -> Sequence[Checkpoint]:
    """The site's checkpoints after `seq`, oldest first."""
    return session.scalars(
        select(Checkpoint)
        .where(Checkpoint.site_id == site_id, Checkpoint.seq > seq)
        .order_by(Checkpoint.seq)
        .limit(limit)
    ).all()


def add_cosignature(
    *, session: Session, site_id: str, seq: int, cosigned: dict[str, str], now: datetime
) -> Cosignature:
    """Keep a witness's co-signature of checkpoint `seq` once it verifies (again: replaced)."""
    row = session.scalar(
        select(Checkpoint).where(Checkpoint.site_id == site_id, Checkpoint.seq == seq)
    )
    if row is None:
        raise NotFound(f"checkpoint {seq} of {site_id!r} not found")
    problem = cosignature_problem(cosigned, as_statement(row))
    if problem is not None:
        raise InvalidInput(problem, details={"field": "signature"})
    kept = session.scalar(
        select(Cosignature).where(
            Cosignature.checkpoint_id == row.id, Cosignature.witness == cosigned["witness"]
        )
    )
    if kept is None:
        kept = Cosignature(checkpoint_id=row.id, witness=cosigned["witness"])
        session.add(kept)
    kept.public_key, kept.signature = cosigned["public_key"], cosigned["signature"]
    kept.created_at = now
    session.flush()
    return kept


def cosigned(*, session: Session, site_id: str, upto: int) -> dict[str, Any] | None:
    """The newest checkpoint up to `upto` that witnesses co-signed, with their signatures."""
    row = session.scalar(
        select(Checkpoint)
        .join(Cosignature, Cosignature.checkpoint_id == Checkpoint.id)
        .where(Checkpoint.site_id == site_id, Checkpoint.seq <= upto)
        .order_by(Checkpoint.seq.desc())
        .limit(1)
    )
    if row is None:
        return None
    signatures = session.scalars(
        select(Cosignature).where(Cosignature.checkpoint_id == row.id).order_by(Cosignature.witness)
    )
    return {
        "checkpoint": shown_to_witness(row),
        "cosignatures": [
            {"witness": c.witness, "public_key": c.public_key, "signature": c.signature}
            for c in signatures
        ],
    }
