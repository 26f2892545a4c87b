"""The web pages' session cookie: the API token signed into an HttpOnly cookie.

A person types their API token once; the pages keep it in a cookie signed with a key
derived from the server's token pepper, so a cookie cannot be forged or altered. Every
request still checks the token itself (`app.state.authenticate`), so revoking a token ends
its sessions at once. The cookie also carries a random nonce, from which the session's
CSRF token is derived: a form or an htmx request must echo it (`csrf_token`).

Plumbing: it knows no domain; the pages (dashboards/) set the cookie, the live stream
reads it, since a browser's EventSource cannot send an Authorization header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import HTTPConnection

COOKIE = "fh_session"
LIFETIME = timedelta(hours=12)
"""A working shift and a half: the desk signs in once a day."""


@dataclass(frozen=True)
class WebSession:
    """What a valid session cookie holds."""

    token: str
    nonce: str
    expires: datetime


def _key(pepper: str) -> bytes:
    return hmac.new(pepper.encode(), b"fh-web-session-v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(*, token: str, pepper: str, now: datetime) -> str:
    """A new session cookie value for `token`."""
    body = json.dumps(
        {"t": token, "n": secrets.token_urlsafe(16), "e": int((now + LIFETIME).timestamp())},
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(_key(pepper), body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def decode(value: str, *, pepper: str, now: datetime) -> WebSession | None:
    """The session in a cookie value, or None when it is forged, altered or expired."""
    try:
        body_text, mac_text = value.split(".", 1)
        body = _unb64(body_text)
        mac = _unb64(mac_text)
    except (ValueError, UnicodeError):
        return None
    if not hmac.compare_digest(mac, hmac.new(_key(pepper), body, hashlib.sha256).digest()):
        return None
    try:
        data = json.loads(body)
        session = WebSession(
            str(data["t"]), str(data["n"]), datetime.fromtimestamp(data["e"], now.tzinfo)
        )
    except (ValueError, KeyError, TypeError, OverflowError):
        return None
    return session if session.expires > now else None


def from_request(conn: HTTPConnection, *, pepper: str, now: datetime) -> WebSession | None:
    """The request's valid session, if it has one."""
    value = conn.cookies.get(COOKIE)
    return decode(value, pepper=pepper, now=now) if value else None


def csrf_token(session: WebSession, *, pepper: str) -> str:
    """The CSRF token of a session: forms and htmx requests send it back."""
    return hmac.new(_key(pepper), f"csrf:{session.nonce}".encode(), hashlib.sha256).hexdigest()
