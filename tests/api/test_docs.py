"""The interactive API docs work on a site with no internet: every file comes from the hub."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.settings import Settings

REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")
OUTSIDE = re.compile(r"(?:https?:)?//[a-z0-9.-]+", re.IGNORECASE)
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}


@pytest.fixture
def docs_client(settings: Settings) -> Iterator[TestClient]:
    """The app as `fhub serve` builds it (no database needed for its pages)."""
    with TestClient(create_app(settings)) as client:
        yield client


def references(html: str) -> list[str]:
    """Every URL the page loads: scripts, styles, icons, the OpenAPI document."""
    return [a or b for a, b in REFERENCE.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_page_loads_only_the_hubs_own_files(docs_client: TestClient, page: str) -> None:
    response = docs_client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert OUTSIDE.findall(html.replace("window.location.origin", "")) == []
    found = references(html)
    assert "/openapi.json" in found
    assert any(url.endswith(".js") for url in found)
    for url in found:
        assert url.startswith("/"), url
        asset = docs_client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        kind = asset.headers["content-type"].split(";")[0]
        assert kind in CONTENT_TYPES[suffix], (url, kind)
        assert len(asset.content) > 0


def test_swagger_ui_reads_openapi_3_1_and_asks_no_online_validator(
    docs_client: TestClient,
) -> None:
    html = docs_client.get("/docs").text
    assert '"validatorUrl": null' in html
    assert "/docs/assets/swagger-ui.css" in references(html)
    version = docs_client.get("/openapi.json").json()["openapi"]
    assert version.startswith("3.1")
    bundle = docs_client.get("/docs/assets/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle
    assert "oas/3.1" in bundle  # Swagger UI 5: OpenAPI 3.1 documents render (4.x refused them)


def test_the_oauth2_redirect_page_is_served_too(docs_client: TestClient) -> None:
    html = docs_client.get("/docs").text
    (path,) = re.findall(r"oauth2RedirectUrl: window\.location\.origin \+ '([^']+)'", html)
    response = docs_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert OUTSIDE.findall(response.text) == []


def test_the_docs_pages_are_not_in_the_schema(docs_client: TestClient) -> None:
    paths = docs_client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
