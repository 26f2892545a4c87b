"""The web pages' session cookie: a random session id, never the API token.

A person types their API token once; the hub opens a session for it (`web_sessions`,
only the id's keyed hash stored) and the cookie holds the session's random id. Every
request checks the session server-side (`app.state.authenticate_session`): sign-out, a
disabled user, a revoked token, an idle or too old session end it at once. The session's
CSRF token is derived from its id: a form, an htmx request and any change through the
cookie must echo it (`csrf_token`).

Plumbing: it knows no domain; the pages (dashboards/) set the cookie, the API and the live
stream read it, since a browser's EventSource cannot send an Authorization header.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import HTTPConnection

COOKIE = "fh_session"
CSRF_HEADER = "x-csrf-token"
_LONGEST = 128


def _key(pepper: str) -> bytes:
    return hmac.new(pepper.encode(), b"fh-web-session-v2", hashlib.sha256).digest()


def from_request(conn: HTTPConnection) -> str | None:
    """The session id the request's cookie holds, if it holds one."""
    value = conn.cookies.get(COOKIE)
    if not value or len(value) > _LONGEST or not value.isascii():
        return None
    return value


def csrf_token(session_id: str, *, pepper: str) -> str:
    """The CSRF token of a session: forms and htmx requests send it back."""
    return hmac.new(_key(pepper), f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(session_id: str, sent: str | None, *, pepper: str) -> bool:
    """Whether `sent` is the session's CSRF token."""
    return sent is not None and hmac.compare_digest(sent, csrf_token(session_id, pepper=pepper))
