"""API tokens for administrators: list them, revoke one (its sessions end with it).

An administrator sees the tokens of the users who share one of their sites; another's
token is not found, as any object of another site.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from hub.api.deps import NowDep, PrincipalDep, SessionDep
from hub.api.params import IdPath
from hub.auth import service
from hub.auth.enums import Role
from hub.auth.models import ApiToken
from hub.auth.principal import Principal
from hub.errors import Forbidden, NotFound

router = APIRouter(prefix="/tokens", tags=["auth"])


class TokenOut(BaseModel):
    """An API token as an administrator sees it (never the token itself)."""

    id: int
    user_id: int
    user: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def build(cls, row: ApiToken) -> TokenOut:
        """The view of a token row."""
        return cls(
            id=row.id,
            user_id=row.user_id,
            user=row.user.name,
            prefix=row.prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


def _admin(principal: Principal) -> Principal:
    if principal.role != Role.admin:
        raise Forbidden(f"role {principal.role} may not manage API tokens")
    return principal


def _visible(principal: Principal, row: ApiToken) -> bool:
    return bool(row.user.site_ids & principal.site_ids)


@router.get("", response_model=list[TokenOut])
def list_tokens(session: SessionDep, principal: PrincipalDep) -> list[TokenOut]:
    """The API tokens of the users sharing one of the administrator's sites."""
    _admin(principal)
    rows = service.tokens(session=session)
    return [TokenOut.build(row) for row in rows if _visible(principal, row)]


@router.post("/{token_id}/revoke", response_model=TokenOut)
def revoke(token_id: IdPath, session: SessionDep, principal: PrincipalDep, now: NowDep) -> TokenOut:
    """Revoke a token: it stops at once, and so does every page session opened with it."""
    _admin(principal)
    row = session.get(ApiToken, token_id)
    if row is None or not _visible(principal, row):
        raise NotFound(f"token {token_id} not found")
    service.revoke_token(session=session, token_id=token_id, now=now)
    session.commit()
    return TokenOut.build(row)
