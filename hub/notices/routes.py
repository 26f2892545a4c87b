"""HTTP routes of notices: `GET /notices` (thin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import PrincipalDep, SessionDep
from hub.api.params import Offset
from hub.notices import service
from hub.notices.schemas import NoticeList, NoticeOut

router = APIRouter(prefix="/notices", tags=["notices"])


@router.get("", response_model=NoticeList)
def list_notices(
    session: SessionDep,
    principal: PrincipalDep,
    site: Annotated[str | None, Query(max_length=64)] = None,
    active: Annotated[bool | None, Query(description="true: up now; false: withdrawn")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> NoticeList:
    """Notices to residents in the caller's sites, newest first."""
    notices = service.list_notices(
        session=session,
        site_ids=principal.site_ids,
        site=site,
        up=active,
        limit=limit,
        offset=offset,
    )
    return NoticeList(items=[NoticeOut.build(n) for n in notices])
