"""The hub's Ed25519 signing keys, kept in a directory of their own (not in the database).

The directory holds each private key (`ed25519-<key id>.pem`, mode 0600), which one is in
use (`current`) and every public key ever used (`public-keys.json`): after a rotation old
checkpoints still verify. A key id is the first 16 hex digits of SHA-256 of the raw public
key, so an id and its key cannot be swapped unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"
PUBLIC_FILE = "public-keys.json"
CURRENT_FILE = "current"


def key_id(public_key: bytes) -> str:
    """The id of a raw 32-byte public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Bytes of base64 text (ValueError when it is not)."""
    return base64.b64decode(text.encode("ascii"), validate=True)


def verify_signature(public_key: str, data: bytes, signature: str) -> bool:
    """Whether `signature` (base64) is `public_key`'s (base64, raw) signature of `data`."""
    try:
        Ed25519PublicKey.from_public_bytes(unb64(public_key)).verify(unb64(signature), data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class PublicKey:
    """A public key the hub has signed with."""

    key_id: str
    public_key: str
    created_at: str


class Keyring:
    """The signing key in use and every public key before it."""

    def __init__(self, directory: Path, current: str, private: Ed25519PrivateKey) -> None:
        self.directory = directory
        self.current = current
        self._private = private

    @classmethod
    def open(cls, directory: Path, *, now: datetime) -> Keyring:
        """The keyring in `directory`, created with a first key if there is none."""
        marker = directory / CURRENT_FILE
        if not marker.exists():
            directory.mkdir(parents=True, exist_ok=True)
            os.chmod(directory, 0o700)
            return cls._new_key(directory, now=now)
        current = marker.read_text(encoding="ascii").strip()
        pem = (directory / f"ed25519-{current}.pem").read_bytes()
        private = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{directory}: key {current} is not an Ed25519 key")
        return cls(directory, current, private)

    @classmethod
    def _new_key(cls, directory: Path, *, now: datetime) -> Keyring:
        private = Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        kid = key_id(raw)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = directory / f"ed25519-{kid}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        known = _read_public(directory)
        known[kid] = {"public_key": b64(raw), "created_at": now.isoformat()}
        _write_atomic(directory / PUBLIC_FILE, json.dumps(known, indent=2, sort_keys=True))
        _write_atomic(directory / CURRENT_FILE, kid + "\n")
        return cls(directory, kid, private)

    def rotate(self, *, now: datetime) -> Keyring:
        """A keyring with a new key in use; the old public keys stay valid for old signatures."""
        return self._new_key(self.directory, now=now)

    def sign(self, data: bytes) -> str:
        """The current key's signature of `data`, base64."""
        return b64(self._private.sign(data))

    def public_keys(self) -> dict[str, PublicKey]:
        """Every public key of the ring, by id."""
        return {
            kid: PublicKey(kid, entry["public_key"], entry["created_at"])
            for kid, entry in sorted(_read_public(self.directory).items())
        }

    @property
    def public_key(self) -> str:
        """The current public key, base64 of the raw 32 bytes."""
        return self.public_keys()[self.current].public_key


def _read_public(directory: Path) -> dict[str, dict[str, str]]:
    path = directory / PUBLIC_FILE
    if not path.exists():
        return {}
    loaded: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
