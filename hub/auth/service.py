"""Users and API tokens: create, hash, authenticate."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hub.auth.enums import Role
from hub.auth.models import ApiToken, User, UserSite, WebSession
from hub.auth.principal import Principal
from hub.errors import Conflict, InvalidInput, NotFound, Unauthorized
from hub.registry.models import Site

TOKEN_PREFIX = "fh_"
_TOUCH_EVERY = timedelta(minutes=5)


def hash_token(token: str, *, pepper: str) -> str:
    """The keyed hash stored for a token (tokens are random, so one HMAC round suffices)."""
    return hmac.new(pepper.encode(), token.encode(), hashlib.sha256).hexdigest()


def create_user(
    *,
    session: Session,
    name: str,
    role: Role,
    site_ids: Iterable[str],
    now: datetime,
    department_head: bool = False,
) -> User:
    """A new active user scoped to `site_ids` (each must exist)."""
    name = name.strip()
    if not name:
        raise InvalidInput("a user needs a name")
    sites = sorted(set(site_ids))
    if not sites:
        raise InvalidInput("a user needs at least one site")
    known = set(session.scalars(select(Site.id).where(Site.id.in_(sites))))
    missing = [s for s in sites if s not in known]
    if missing:
        raise InvalidInput(f"unknown site(s): {', '.join(missing)}")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"a user named {name!r} exists already")
    user = User(name=name, role=role, active=True, created_at=now, department_head=department_head)
    user.sites = [UserSite(site_id=s) for s in sites]
    session.add(user)
    session.flush()
    return user


def issue_token(
    *, session: Session, user: User, pepper: str, now: datetime, token: str | None = None
) -> str:
    """A new API token for `user`; the plain token is returned once and never stored."""
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token, pepper=pepper),
            prefix=token[:10],
            created_at=now,
        )
    )
    session.flush()
    return token


def authenticate(*, session: Session, token: str, pepper: str, now: datetime) -> User:
    """The active user owning `token`, or Unauthorized."""
    row = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == hash_token(token, pepper=pepper))
        .options(selectinload(ApiToken.user).selectinload(User.sites))
    )
    if row is None or row.revoked_at is not None or not row.user.active:
        raise Unauthorized("invalid or revoked API token")
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        row.last_used_at = now
    return row.user


def principal_for_token(*, session: Session, token: str, pepper: str, now: datetime) -> Principal:
    """The caller `token` belongs to, or Unauthorized."""
    user = authenticate(session=session, token=token, pepper=pepper, now=now)
    return Principal(
        user_id=user.id,
        name=user.name,
        role=Role(user.role),
        site_ids=user.site_ids,
        department_head=user.department_head,
    )


SESSION_IDLE = timedelta(hours=1)
"""A signed-in browser left alone this long is signed out."""
SESSION_LIFETIME = timedelta(hours=12)
"""And any session ends this long after sign-in: a working shift and a half."""
SESSION_PREFIX = "fhs_"
_SEEN_EVERY = timedelta(minutes=1)


def start_session(*, session: Session, token: str, pepper: str, now: datetime) -> str:
    """Sign in with `token`: a new session's random id (only its hash is stored)."""
    user = authenticate(session=session, token=token, pepper=pepper, now=now)
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token, pepper=pepper))
    )
    assert row is not None
    session_id = SESSION_PREFIX + secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=hash_token(session_id, pepper=pepper),
            user_id=user.id,
            token_id=row.id,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return session_id


def principal_for_session(
    *, session: Session, session_id: str, pepper: str, now: datetime
) -> Principal:
    """The caller a session id stands for, or Unauthorized: the session must not have
    ended, been idle past `SESSION_IDLE` or lived past `SESSION_LIFETIME`; its token must
    not be revoked nor its user disabled."""
    row = session.scalar(
        select(WebSession)
        .where(WebSession.id_hash == hash_token(session_id, pepper=pepper))
        .options(
            selectinload(WebSession.token),
            selectinload(WebSession.user).selectinload(User.sites),
        )
    )
    if (
        row is None
        or row.ended_at is not None
        or now - row.last_seen_at > SESSION_IDLE
        or now - row.created_at > SESSION_LIFETIME
        or row.token.revoked_at is not None
        or not row.user.active
    ):
        raise Unauthorized("signed out: the session has ended")
    if now - row.last_seen_at > _SEEN_EVERY:
        row.last_seen_at = now
    user = row.user
    return Principal(
        user_id=user.id,
        name=user.name,
        role=Role(user.role),
        site_ids=user.site_ids,
        department_head=user.department_head,
    )


def end_session(*, session: Session, session_id: str, pepper: str, now: datetime) -> None:
    """Sign out: the session ends (an unknown or ended one is left as it is)."""
    row = session.scalar(
        select(WebSession).where(WebSession.id_hash == hash_token(session_id, pepper=pepper))
    )
    if row is not None and row.ended_at is None:
        row.ended_at = now


def revoke_token(*, session: Session, token_id: int, now: datetime) -> ApiToken:
    """Revoke an API token: it and every session opened with it stop at once."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = now
    for web in session.scalars(
        select(WebSession).where(WebSession.token_id == token_id, WebSession.ended_at.is_(None))
    ):
        web.ended_at = now
    session.flush()
    return row


def tokens(*, session: Session, user_ids: Iterable[int] | None = None) -> list[ApiToken]:
    """API tokens (of `user_ids`, else all), oldest first, with their users."""
    query = select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id)
    if user_ids is not None:
        query = query.where(ApiToken.user_id.in_(list(user_ids)))
    return list(session.scalars(query))
