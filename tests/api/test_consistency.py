"""Answers that agree across routes: `Allow` names only the routes of the path, and a site
that does not exist (or is not the caller's) is 404 on every route taking `?site=`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.auth.enums import Role
from hub.settings import Settings
from tests.conftest import OTHER_SITE, bearer


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/complaints/phrase-check", "POST"),
        ("/api/v1/complaints/12", "GET"),
        ("/api/v1/work-orders", "GET, POST"),
        ("/api/v1/work-orders/1/transitions", "POST"),
        ("/sign-in", "POST"),
    ],
)
def test_options_allows_only_the_routes_of_the_path(
    client: TestClient, path: str, allow: str
) -> None:
    answer = client.options(path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allow


def _site_queries() -> Iterator[str]:
    app = create_app(Settings())
    for path, item in app.openapi()["paths"].items():
        get = item.get("get")
        if get is None or "{" in path or path.endswith("/stream"):
            continue
        if any(p["in"] == "query" and p["name"] == "site" for p in get.get("parameters", [])):
            yield path


SITE_QUERIES = sorted(set(_site_queries()))


@pytest.mark.parametrize("path", SITE_QUERIES)
def test_an_unknown_or_unseen_site_is_404_everywhere(
    client: TestClient, make_token: Callable[..., str], path: str
) -> None:
    headers = bearer(make_token(Role.admin))
    for site in ("no-such-site", OTHER_SITE):
        answer = client.get(f"{path}?site={site}", headers=headers)
        assert answer.status_code == 404, (path, site, answer.text)
        assert answer.json()["error"]["code"] == "not_found"
