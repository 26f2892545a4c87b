"""HTTP routes of correlation: the desk's look-up before filing (the proactive measure is a
report: `hub.reports`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import NowDep, PrincipalDep, SessionDep
from hub.auth.principal import Principal
from hub.correlation import measure
from hub.correlation.deps import PoliciesDep
from hub.correlation.schemas import KnownIssues
from hub.errors import InvalidInput, NotFound
from hub.notices import service as notices
from hub.notices.schemas import NoticeOut

router = APIRouter(tags=["correlation"])

WEEK = timedelta(days=7)


def _site(principal: Principal, site: str | None) -> str:
    """The site asked for (default: the caller's only one); another site's is not found."""
    if site is None:
        if len(principal.site_ids) != 1:
            raise InvalidInput("say which site (`site`)", details={"field": "site"})
        (site,) = principal.site_ids
    if not principal.sees(site):
        raise NotFound(f"site {site!r} not found")
    return site


@router.get("/known-issues", response_model=KnownIssues)
def known_issues(
    session: SessionDep,
    principal: PrincipalDep,
    policies: PoliciesDep,
    now: NowDep,
    site: Annotated[str | None, Query(max_length=64)] = None,
    location: Annotated[
        str | None, Query(max_length=400, description="A unit, floor or building path: 3/12")
    ] = None,
    text: Annotated[
        str | None,
        Query(
            max_length=10_000,
            description="The owner's words, read for a place as intake reads them "
            "(4-2-301, 车库入口, 301 in building 4) when `location` is not given.",
        ),
    ] = None,
) -> KnownIssues:
    """What is going on at this unit, floor, building or area right now: orders and notices.

    A place named but not in the registry (nor any place above it) shows nothing: the
    desk is told so, rather than shown the whole site. Without `location` and `text`, or
    when the words are about the whole site (全小区停水), the site's orders are shown.
    Orders are those scoring at least the look-up threshold, best first, a few at most.
    """
    site_id = _site(principal, site)
    look = measure.look_at(session=session, site_id=site_id, location=location, text=text)
    if look.nowhere:
        return KnownIssues(site=site_id, location=None, reasons=look.reasons, items=[], notices=[])
    place = look.place
    items = measure.going_on(
        session=session, site_id=site_id, location=place, now=now, zone=policies.zone
    )
    items = measure.best_few(items, place_named=place is not None)
    up = [
        NoticeOut.build(n)
        for n in notices.active(session=session, site_id=site_id)
        if place is None
        or any(
            p == place.path or p.startswith(place.path + "/") or place.path.startswith(p + "/")
            for p in [*n.locations, *n.fault_locations]
        )
    ]
    return KnownIssues(
        site=site_id,
        location=place.path if place else None,
        reasons=look.reasons,
        items=items,
        notices=up,
    )
