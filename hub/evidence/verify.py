"""Checking an evidence pack offline: no database, only the file and, if given, a trusted key.

A pack is a ZIP of canonical JSON (RFC 8785) files listed with their SHA-256 in a signed
manifest: timeline records, each device's chain segment (every link's body and digest),
the inclusion proof of each segment's last digest in a signed checkpoint, the public keys.
Every problem is named; an intact pack has none.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from hub.evidence.canonical import canonical
from hub.evidence.keys import key_id, unb64, verify_signature
from hub.evidence.merkle import leaf_hash, verify_inclusion

GENESIS = "0" * 64
FORMAT = "facility-hub-evidence/1"
CHECKPOINT_FORMAT = "facility-hub-checkpoint/1"
PRUNED_FORMAT = "facility-hub-pruned/1"
PRUNED_FIELDS = ("count", "device_id", "first_position", "key_id", "last", "prev", "site")
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


def chain_body(
    device_id: str,
    channel: str,
    kind: str | None,
    ts: str,
    key: str,
    payload: Any,
    received_at: str | None = None,
) -> bytes:
    """The bytes a signal's chain digest covers (as ingest writes them): link format 2 with
    the receipt time (`received_at`, ISO), format 1 without it (links written before)."""
    parts: list[Any] = [device_id, channel, kind, ts, key, payload]
    if received_at is not None:
        parts.append({"received_at": received_at})
    return orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)


def received_in(body: bytes) -> str | None:
    """The receipt time a link's body covers (format 2), or None (format 1)."""
    try:
        parts = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(parts, list) and len(parts) == 7 and isinstance(parts[6], dict):
        value = parts[6].get("received_at")
        return value if isinstance(value, str) else None
    return None


def link(prev: str, body: bytes) -> str:
    """The digest linking a body to the digest before it."""
    return hashlib.sha256(prev.encode() + body).hexdigest()


def leaf_of(device_id: str, count: int, head: str) -> bytes:
    """The Merkle leaf hash of a device's chain head in a checkpoint."""
    return leaf_hash(canonical({"count": count, "device_id": device_id, "head": head}))


def checkpoint_statement(checkpoint: Mapping[str, Any]) -> bytes:
    """The bytes a checkpoint's signature covers."""
    fields = ("at", "key_id", "prev", "root", "seq", "site", "tree_size")
    return canonical({"format": CHECKPOINT_FORMAT, **{k: checkpoint[k] for k in fields}})


def pruned_statement(run: Mapping[str, Any]) -> bytes:
    """The bytes a pruned run's signature covers: which links of which chain were deleted."""
    return canonical({"format": PRUNED_FORMAT, **{k: run[k] for k in PRUNED_FIELDS}})


def pruned_run_problem(run: Mapping[str, Any], keys: Mapping[str, str]) -> str | None:
    """Why a pruned run's record cannot be trusted, or None when its signature holds."""
    try:
        statement = pruned_statement(run)
    except KeyError as exc:
        return f"the record of pruned signals lacks {exc}"
    key = keys.get(str(run.get("key_id")))
    if key is None:
        return f"the record of pruned signals is signed by an unknown key {run.get('key_id')}"
    if not verify_signature(key, statement, str(run.get("signature", ""))):
        return "the record of pruned signals does not verify (edited or forged)"
    return None


@dataclass
class Report:
    """What verifying a pack found."""

    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    key_id: str | None = None
    records: int = 0
    signals: int = 0

    @property
    def ok(self) -> bool:
        """No problem at all."""
        return not self.problems


def _json(name: str, data: bytes, report: Report) -> Any:
    try:
        value = json.loads(data)
    except ValueError:
        report.problems.append(f"{name}: not JSON")
        return None
    if canonical(value) != data.rstrip(b"\n"):
        report.problems.append(f"{name}: not in canonical form (RFC 8785)")
    return value


def _lines(name: str, data: bytes, report: Report) -> list[Any]:
    out = []
    for number, line in enumerate(data.splitlines(), start=1):
        value = _json(f"{name}:{number}", line, report)
        if value is not None:
            out.append(value)
    return out


def _keys(files: Mapping[str, bytes], report: Report) -> dict[str, str]:
    keys = _json("keys.json", files.get("keys.json", b"{}"), report) or {}
    good: dict[str, str] = {}
    for kid, public in keys.items():
        try:
            if key_id(unb64(public)) != kid:
                report.problems.append(f"keys.json: key {kid} is not the key of that id")
                continue
        except (ValueError, TypeError):
            report.problems.append(f"keys.json: key {kid} is not base64")
            continue
        good[kid] = public
    return good


def verify_pack(data: bytes, *, trusted: str | None = None) -> Report:
    """Verify a pack's bytes; `trusted`: the hub's public key (base64) it must be signed by."""
    report = Report()
    files = _members(data, report)
    if files is None:
        return report
    for required in (MANIFEST, SIGNATURE, "keys.json", "checkpoint.json", "proofs.json"):
        if required not in files:
            report.problems.append(f"{required} is missing")
    if report.problems:
        return report
    manifest = _json(MANIFEST, files[MANIFEST], report) or {}
    report.manifest = manifest
    keys = _keys(files, report)
    report.key_id = manifest.get("key_id")
    signer = keys.get(str(manifest.get("key_id")))
    if signer is None:
        report.problems.append(f"the manifest's key {manifest.get('key_id')} is not in keys.json")
    elif not verify_signature(signer, files[MANIFEST], files[SIGNATURE].decode().strip()):
        report.problems.append("manifest.sig is not a valid signature of manifest.json")
    if trusted is not None and signer != trusted:
        report.problems.append("the pack is not signed by the trusted key")
    for problem in manifest.get("problems_at_export") or ():
        report.problems.append(f"the hub found a problem when it made the pack: {problem}")
    _files(files, manifest, report)
    checkpoint = _checkpoint(files, manifest, keys, report)
    if checkpoint and checkpoint.get("key_id") != manifest.get("key_id"):
        report.problems.append(
            "the manifest is signed by another key than the checkpoint's: re-signed elsewhere"
        )
    heads = _proofs(files, checkpoint, report)
    digests = _chains(files, heads, keys, report)
    for record in _lines("records.jsonl", files.get("records.jsonl", b""), report):
        report.records += 1
        digest, device = record.get("digest"), record.get("device_id")
        if record.get("type") == "signal" and digest not in digests.get(device, set()):
            report.problems.append(f"record of signal {record.get('ref')} is in no chain segment")
        if record.get("type") == "attachment":
            _photo(files, record, report)
    return report


MAX_PACK = 256 * 1024 * 1024
"""The most a pack's files may inflate to, all together (records and chains as JSON: a
year of a device's readings is a few tens of megabytes). A ZIP listing more is refused
unread; a member is read no further than the size listed for it."""


def _members(data: bytes, report: Report) -> dict[str, bytes] | None:
    """The pack's files, each read no further than the size the ZIP lists for it; None (with
    the problem) when the ZIP is unreadable, names a file twice or holds too much."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                report.problems.append(f"the ZIP names {', '.join(twice)} more than once")
                return None
            listed = sum(info.file_size for info in infos)
            if listed > MAX_PACK:
                report.problems.append(f"the ZIP lists {listed} bytes: more than a pack holds")
                return None
            files: dict[str, bytes] = {}
            for info in infos:
                with archive.open(info) as member:
                    content = member.read(info.file_size + 1)
                if len(content) != info.file_size:
                    report.problems.append(f"{info.filename} is not the size the ZIP lists")
                    return None
                files[info.filename] = content
            return files
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        report.problems.append(f"not a readable pack: {exc}")
        return None


def _photo(files: Mapping[str, bytes], record: Mapping[str, Any], report: Report) -> None:
    """A photo of the timeline must be in the pack, its bytes hashing to the record's digest."""
    digest = str(record.get("digest"))
    ref = record.get("ref") or {}
    name = f"attachments/{digest}"
    if name not in files:
        report.problems.append(f"the photo of attachment {ref.get('id')} is missing ({name})")
    elif hashlib.sha256(files[name]).hexdigest() != digest:
        report.problems.append(f"the photo of attachment {ref.get('id')} was altered ({name})")


def _files(files: Mapping[str, bytes], manifest: Mapping[str, Any], report: Report) -> None:
    listed: Mapping[str, str] = manifest.get("files", {})
    for name in sorted(set(files) - {MANIFEST, SIGNATURE} - set(listed)):
        report.problems.append(f"{name} is not listed in the manifest")
    for name, digest in sorted(listed.items()):
        if name not in files:
            report.problems.append(f"{name} is listed but missing")
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            report.problems.append(f"{name} was changed: its SHA-256 is not the manifest's")


def _checkpoint(
    files: Mapping[str, bytes], manifest: Mapping[str, Any], keys: Mapping[str, str], report: Report
) -> dict[str, Any]:
    checkpoint: dict[str, Any] = _json("checkpoint.json", files["checkpoint.json"], report) or {}
    try:
        statement = checkpoint_statement(checkpoint)
    except KeyError as exc:
        report.problems.append(f"checkpoint.json lacks {exc}")
        return {}
    if hashlib.sha256(statement).hexdigest() != manifest.get("checkpoint_digest"):
        report.problems.append("checkpoint.json is not the checkpoint the manifest names")
    public = keys.get(str(checkpoint.get("key_id")))
    if public is None or not verify_signature(public, statement, str(checkpoint.get("signature"))):
        report.problems.append("the checkpoint's signature does not verify")
    return checkpoint


def _proofs(
    files: Mapping[str, bytes], checkpoint: Mapping[str, Any], report: Report
) -> dict[str, tuple[int, str]]:
    proofs = _json("proofs.json", files["proofs.json"], report) or {}
    heads: dict[str, tuple[int, str]] = {}
    try:
        root = bytes.fromhex(str(checkpoint.get("root", "")))
    except ValueError:
        root = b""
    for device, proof in sorted(proofs.items()):
        try:
            leaf = leaf_of(device, int(proof["count"]), str(proof["head"]))
            path = [bytes.fromhex(p) for p in proof["path"]]
            index, size = int(proof["index"]), int(checkpoint.get("tree_size", -1))
        except (KeyError, TypeError, ValueError):
            report.problems.append(f"proofs.json: the proof of {device} is malformed")
            continue
        if not verify_inclusion(leaf, index, size, path, root):
            report.problems.append(f"the head of {device} is not in the signed checkpoint")
        heads[device] = (int(proof["count"]), str(proof["head"]))
    return heads


def _step_over(
    name: str,
    run: Any,
    prev: str | None,
    position: int,
    keys: Mapping[str, str],
    report: Report,
) -> tuple[str | None, int]:
    """Check a pruned run in a chain segment; the digest and position after it."""
    if not isinstance(run, dict):
        report.problems.append(f"{name}: a pruned run that is not a record")
        return prev, position
    problem = pruned_run_problem(run, keys)
    try:
        first, count = int(run["first_position"]), int(run["count"])
    except (KeyError, TypeError, ValueError):
        report.problems.append(f"{name}: a pruned run without its positions")
        return prev, position
    if problem is not None:
        report.problems.append(f"{name}: {problem}")
    elif prev is not None and (run.get("prev"), first) != (prev, position + 1):
        report.problems.append(f"{name}: a pruned run does not follow the one before")
    return str(run.get("last")), first + count - 1


def _chains(
    files: Mapping[str, bytes],
    heads: Mapping[str, tuple[int, str]],
    keys: Mapping[str, str],
    report: Report,
) -> dict[str, set[str]]:
    digests: dict[str, set[str]] = {}
    for device, (count, head) in sorted(heads.items()):
        name = f"chains/{device}.jsonl"
        rows = _lines(name, files.get(name, b""), report)
        seen = digests.setdefault(device, set())
        prev: str | None = None
        position = 0
        for row in rows:
            if "pruned" in row:  # signals retention deleted, stepped over by a signed record
                prev, position = _step_over(name, row["pruned"], prev, position, keys, report)
                continue
            body = str(row.get("body", "")).encode()
            if prev is not None and row.get("prev") != prev:
                report.problems.append(
                    f"{name}: #{row.get('position')} does not follow the one before"
                )
            if prev is not None and row.get("position") != position + 1:
                report.problems.append(f"{name}: #{row.get('position')} is out of order")
            if link(str(row.get("prev")), body) != row.get("digest"):
                report.problems.append(f"{name}: #{row.get('position')} does not match its digest")
            prev, position = str(row.get("digest")), int(row.get("position", 0))
            seen.add(prev)
            report.signals += 1
        if rows and (position, prev) != (count, head):
            report.problems.append(f"{name} does not end at the head in the checkpoint")
    return digests
