"""Broker passwords in Mosquitto's `$7$` form: PBKDF2-HMAC-SHA512, salted.

`$7${iterations}${salt}${hash}` with the salt (12 bytes) and the 64-byte derived key in
standard base64, as `mosquitto_passwd` writes them: the hub issues credentials, keeps only
this hash, writes it into Mosquitto's password file as it is, and checks it itself for the
embedded broker.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

ITERATIONS = 20_000
"""Rounds of PBKDF2: mosquitto_passwd's own default is 101; a stolen file should cost more.

Checked once per connection, about 10 ms at this count: a few hundred devices reconnecting
at once cost the broker a few seconds of one core.
"""
SALT_BYTES = 12
KEY_BYTES = 64
PASSWORD_BYTES = 24


def new_password() -> str:
    """A random password for one device (32 URL-safe characters)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """The `$7$` hash of `password`, with a new random salt unless one is given."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, KEY_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches the `$7$` hash `encoded` (False for any malformed hash)."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7" or not parts[2].isdigit():
        return False
    iterations = int(parts[2])
    if not 1 <= iterations <= 10_000_000:
        return False
    try:
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        secret = password.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate cannot be anyone's password
        return False
    key = hashlib.pbkdf2_hmac("sha512", secret, salt, iterations, len(expected) or KEY_BYTES)
    return hmac.compare_digest(key, expected)
