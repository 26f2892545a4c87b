"""Witnesses: independent parties (an owners' committee, a notary) who co-sign the hub's
checkpoints with keys the hub never holds.

A witness keeps its own Ed25519 key and its own state (per site: the digest of the last
checkpoint it signed and each device's chain length then). It co-signs a checkpoint only
when the hub's signature holds, the Merkle root is that of the heads shown, the checkpoint
follows the last one it signed (`prev`), and no device's count went down or vanished: a
property company that rewrote or forked its history cannot get it co-signed again.

No database: `fhub evidence witness` runs this from a directory of its own, and `verify`
checks co-signatures offline.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.evidence.canonical import canonical
from hub.evidence.keys import b64, key_id, unb64, verify_signature
from hub.evidence.merkle import MerkleTree
from hub.evidence.verify import checkpoint_statement, leaf_of

WITNESS_FORMAT = "facility-hub-witness/1"
KEY_FILE = "witness.key"
STATE_FILE = "state.json"


class Refused(Exception):
    """The witness will not co-sign this checkpoint; the message says why."""


def cosign_statement(checkpoint_digest: str, witness: str) -> bytes:
    """The bytes a co-signature covers: the checkpoint's digest and who signs."""
    return canonical(
        {"checkpoint": checkpoint_digest, "format": WITNESS_FORMAT, "witness": witness}
    )


def checkpoint_digest(checkpoint: Mapping[str, Any]) -> str:
    """The digest of a checkpoint's signed statement (what `prev` of the next one names)."""
    return hashlib.sha256(checkpoint_statement(checkpoint)).hexdigest()


def cosignature_problem(cosigned: Mapping[str, Any], checkpoint: Mapping[str, Any]) -> str | None:
    """Why a co-signature of `checkpoint` does not hold, or None when it does."""
    try:
        statement = cosign_statement(checkpoint_digest(checkpoint), str(cosigned["witness"]))
        key, signature = str(cosigned["public_key"]), str(cosigned["signature"])
    except KeyError as exc:
        return f"a co-signature lacks {exc}"
    if key_id(unb64(key)) != cosigned["witness"]:
        return f"witness {cosigned['witness']}: its id is not that of its key"
    if not verify_signature(key, statement, signature):
        return f"witness {cosigned['witness']}: the co-signature does not verify"
    return None


def root_of(heads: Sequence[Sequence[Any]]) -> str:
    """The Merkle root of a checkpoint's heads `[device, count, head]`."""
    return MerkleTree([leaf_of(str(d), int(n), str(h)) for d, n, h in heads]).root().hex()


@dataclass
class Witness:
    """A witness's key and state in its own directory."""

    directory: Path
    private: Ed25519PrivateKey

    @classmethod
    def open(cls, directory: Path) -> Witness:
        """The witness of `directory`, its key made on first use (kept 0600)."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / KEY_FILE
        if not path.exists():
            raw = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            _write(path, b64(raw))
            path.chmod(0o600)
        private = Ed25519PrivateKey.from_private_bytes(unb64(path.read_text().strip()))
        return cls(directory, private)

    @property
    def public_key(self) -> str:
        """The witness's public key (base64 of the raw 32 bytes)."""
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return b64(raw)

    @property
    def id(self) -> str:
        """The witness's id: that of its public key."""
        return key_id(unb64(self.public_key))

    def state(self) -> dict[str, Any]:
        """Per site: `{digest, seq, counts}` of the last checkpoint co-signed."""
        path = self.directory / STATE_FILE
        loaded = json.loads(path.read_text()) if path.exists() else {}
        return loaded if isinstance(loaded, dict) else {}

    def cosign(self, checkpoint: Mapping[str, Any], *, hub_key: str) -> dict[str, str]:
        """Co-sign `checkpoint` (its statement, `signature` and `heads`), or raise Refused."""
        site = str(checkpoint.get("site"))
        _check(checkpoint, hub_key)
        digest = checkpoint_digest(checkpoint)
        last = self.state().get(site)
        counts = {str(d): int(n) for d, n, _h in checkpoint["heads"]}
        if last is not None and last["digest"] == digest:
            pass  # the same checkpoint again: sign it again
        elif last is not None:
            if checkpoint.get("prev") != last["digest"]:
                raise Refused(
                    f"checkpoint #{checkpoint.get('seq')} of {site} does not follow "
                    f"#{last['seq']}, the last one this witness signed: a fork or a rewritten "
                    "history"
                )
            for device, before in last["counts"].items():
                if counts.get(device, 0) < before:
                    raise Refused(
                        f"checkpoint #{checkpoint.get('seq')} of {site}: {device} went from "
                        f"{before} signals to {counts.get(device, 0)}"
                    )
        signature = b64(self.private.sign(cosign_statement(digest, self.id)))
        state = self.state()
        state[site] = {"digest": digest, "seq": checkpoint.get("seq"), "counts": counts}
        _write(self.directory / STATE_FILE, json.dumps(state, sort_keys=True, indent=1))
        return {"witness": self.id, "public_key": self.public_key, "signature": signature}


def _check(checkpoint: Mapping[str, Any], hub_key: str) -> None:
    try:
        statement = checkpoint_statement(checkpoint)
        heads = checkpoint["heads"]
    except KeyError as exc:
        raise Refused(f"the checkpoint lacks {exc}") from exc
    if not verify_signature(hub_key, statement, str(checkpoint.get("signature", ""))):
        raise Refused("the hub's signature of the checkpoint does not verify")
    if root_of(heads) != checkpoint.get("root") or len(heads) != checkpoint.get("tree_size"):
        raise Refused("the heads shown are not those the checkpoint's root covers")


def _write(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


@dataclass
class Witnessed:
    """What a pack's co-signatures show: who signed, and what is wrong."""

    signed: list[str]
    problems: list[str]


def check_pack(files: Mapping[str, bytes], required: Sequence[str] = ()) -> Witnessed:
    """The co-signatures a pack carries (`witnesses.json`): each must verify over a checkpoint
    the hub signed (keys.json) whose heads the pack's chains agree with; every `required`
    witness (its public key, base64) must be among them."""
    out = Witnessed([], [])
    try:
        data = json.loads(files.get("witnesses.json", b"{}") or b"{}")
        keys = json.loads(files.get("keys.json", b"{}"))
    except ValueError:
        out.problems.append("witnesses.json is not JSON")
        return out
    checkpoint = data.get("checkpoint") if isinstance(data, dict) else None
    if checkpoint:
        hub_key = keys.get(str(checkpoint.get("key_id")), "")
        try:
            _check(checkpoint, hub_key)
        except Refused as exc:
            out.problems.append(f"witnesses.json: the co-signed checkpoint: {exc}")
        out.problems += _disagreements(files, checkpoint)
        for cosigned in data.get("cosignatures", []):
            problem = cosignature_problem(cosigned, checkpoint)
            if problem is None:
                out.signed.append(str(cosigned["public_key"]))
            else:
                out.problems.append(problem)
    for key in required:
        if key not in out.signed:
            out.problems.append(f"the required witness {key} did not co-sign (or not validly)")
    return out


def _disagreements(files: Mapping[str, bytes], checkpoint: Mapping[str, Any]) -> list[str]:
    """Devices whose chain in the pack disagrees with the co-signed head at its position."""
    problems = []
    for device, count, head in checkpoint.get("heads", []):
        rows = files.get(f"chains/{device}.jsonl", b"").splitlines()
        at = {
            row.get("position"): row.get("digest")
            for row in (json.loads(line) for line in rows if line.strip())
            if isinstance(row, dict)
        }
        if count in at and at[count] != head:
            problems.append(
                f"chains/{device}.jsonl: #{count} is not the head the witnesses co-signed"
            )
    return problems
