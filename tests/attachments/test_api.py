# ruff: noqa: E501 -- cases one per line read as a table
"""Photos through the HTTP API: kept by digest, read back, refused whole when they are bad."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.attachments.models import Attachment, AttachmentLink
from hub.auth.enums import Role
from hub.settings import Settings
from tests.attachments import photos
from tests.conftest import OTHER_SITE, SITE, bearer

BASE = "/api/v1/attachments"


def upload(
    client: TestClient, token: str, data: bytes, name: str = "photo.jpg", **params: str
) -> tuple[int, dict]:  # type: ignore[type-arg]
    """POST a file as a phone's browser does; the status and the JSON answer."""
    response = client.post(
        BASE, files={"file": (name, data, "image/jpeg")}, headers=bearer(token), params=params
    )
    return response.status_code, response.json()


def stored_files(settings: Settings) -> list[Path]:
    """Every file under the photo store but the (empty) incoming directory."""
    root = settings.attachments_root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_phone_photo_is_kept_by_its_digest_and_read_back(
    client: TestClient, make_token: Callable[..., str], settings: Settings
) -> None:
    token = make_token(Role.engineer)
    data = photos.jpeg(orientation=6, taken="2026:12:07 10:12:30", offset="+08:00")
    status, made = upload(client, token, data)
    assert status == 201, made
    assert made["sha256"] == hashlib.sha256(data).hexdigest()
    assert (made["content_type"], made["bytes"], made["width"], made["height"]) == (
        "image/jpeg",
        len(data),
        400,
        200,
    )
    assert made["taken_at"] == "2026-12-07T02:12:30Z"
    assert stored_files(settings) == [
        settings.attachments_root / made["sha256"][:2] / made["sha256"]
    ]
    back = client.get(f"{BASE}/{made['id']}", headers=bearer(token))
    assert back.status_code == 200
    assert back.headers["content-type"] == "image/jpeg"
    assert back.content == data
    again_status, again = upload(client, token, data, name="same.jpg")
    assert (again_status, again["id"]) == (201, made["id"])


def test_the_thumbnail_stands_upright_as_the_camera_said(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.cleaner)
    _status, made = upload(client, token, photos.jpeg(800, 400, orientation=6))
    thumb = client.get(f"{BASE}/{made['id']}/thumbnail", headers=bearer(token))
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert image.size == (160, 320)  # turned a quarter: portrait, at most 320 px
        assert image.getpixel((80, 10))[2] > 150  # the sensor's left mark is now on top


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (photos.png(), "image/png"),
        (photos.webp(), "image/webp"),
        (photos.jpeg(), "image/jpeg"),
    ],
)
def test_each_photo_format_is_read_from_the_bytes(
    client: TestClient, make_token: Callable[..., str], data: bytes, content_type: str
) -> None:
    status, made = upload(client, make_token(Role.security), data, name="IMG_0001.bin")
    assert (status, made["content_type"]) == (201, content_type)


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (photos.pdf(), 422, "not a JPEG, PNG or WebP"),
        (photos.jpeg()[:-300], 422, "cannot be read whole"),
        (photos.bomb(), 422, "pixels"),
        (b"", 422, "empty"),
        (photos.big(11 * 1024 * 1024), 413, "10 MB"),
        (photos.big(10 * 1024 * 1024 + 1), 413, "10 MB"),
    ],
    ids=[
        "pdf-named-jpg",
        "truncated-jpeg",
        "decompression-bomb",
        "empty",
        "11-MB",
        "one-byte-over",
    ],
)
def test_a_bad_upload_is_refused_and_nothing_is_stored(
    client: TestClient,
    make_token: Callable[..., str],
    settings: Settings,
    db: Session,
    data: bytes,
    status: int,
    words: str,
) -> None:
    got, body = upload(client, make_token(Role.engineer), data)
    assert got == status, body
    assert words in body["error"]["message"]
    assert stored_files(settings) == []
    assert db.scalar(select(func.count()).select_from(Attachment)) == 0


def test_an_upload_past_10_MB_is_refused_while_it_streams(
    client: TestClient, make_token: Callable[..., str], settings: Settings
) -> None:
    """No Content-Length to trust (chunked): the body is counted as it arrives."""
    token = make_token(Role.engineer)
    boundary = "fhubboundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()

    def body():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(12):
            yield b"\xff" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        BASE,
        content=body(),
        headers={**bearer(token), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    "request_",
    [
        {"data": {"file": "not a file"}},
        {"content": b"just bytes", "headers": {"Content-Type": "image/jpeg"}},
        {"files": {"photo": ("a.jpg", photos.jpeg(), "image/jpeg")}},
    ],
    ids=["text-field", "raw-body", "wrong-part-name"],
)
def test_an_upload_without_a_file_part_is_refused(
    client: TestClient,
    make_token: Callable[..., str],
    request_: dict,  # type: ignore[type-arg]
) -> None:
    auth = bearer(make_token(Role.engineer))
    headers = {**auth, **request_.pop("headers", {})}
    response = client.post(BASE, headers=headers, **request_)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == "file"


def test_another_sites_photo_is_not_found_and_cannot_be_attached(
    client: TestClient, make_token: Callable[..., str], db: Session
) -> None:
    theirs = make_token(Role.cleaner, site_ids=(OTHER_SITE,))
    _status, photo = upload(client, theirs, photos.jpeg())
    ours = bearer(make_token(Role.cleaner))
    for path in (
        f"{BASE}/{photo['id']}",
        f"{BASE}/{photo['id']}/thumbnail",
        f"{BASE}/{photo['id']}/meta",
    ):
        assert client.get(path, headers=ours).status_code == 404
    complaint = {"content": "大堂灯坏了", "site": SITE, "attachment_ids": [photo["id"]]}
    refused = client.post("/api/v1/complaints", json=complaint, headers=ours)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"]["field"] == "attachment_ids"
    assert client.get("/api/v1/complaints", headers=ours).json() == []
    assert db.scalar(select(func.count()).select_from(AttachmentLink)) == 0


def test_a_user_of_two_sites_names_the_site(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    token = make_token(Role.manager, site_ids=(SITE, OTHER_SITE))
    assert upload(client, token, photos.png())[0] == 422
    assert upload(client, token, photos.png(), site="nowhere")[0] == 404
    status, made = upload(client, token, photos.png(), site=OTHER_SITE)
    assert (status, made["site"]) == (201, OTHER_SITE)


@pytest.mark.parametrize(
    "ids",
    [[2**31], [0], ["1\x00"], [True], list(range(1, 30))],
    ids=["past-int32", "zero", "nul", "bool", "too-many"],
)
def test_hostile_attachment_ids_are_refused(
    client: TestClient, make_token: Callable[..., str], ids: list[object]
) -> None:
    body = {"content": "电梯异响", "site": SITE, "attachment_ids": ids}
    response = client.post(
        "/api/v1/complaints", json=body, headers=bearer(make_token(Role.front_desk))
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "ids", [[2**31], [-1], ["x"], [None]], ids=["past-int32", "negative", "text", "null"]
)
def test_every_case_refuses_hostile_attachment_ids(
    client: TestClient, make_token: Callable[..., str], ids: list[object]
) -> None:
    manager = bearer(make_token(Role.manager))
    complaint = client.post(
        "/api/v1/complaints", json={"content": "电梯异响", "site": SITE}, headers=manager
    ).json()
    order = client.post(
        "/api/v1/work-orders",
        json={"site": SITE, "title": "电梯异响", "department": "engineering"},
        headers=manager,
    ).json()
    entry = {
        "site": SITE, "location": "1", "inspector": "x", "observed_at": "2026-12-07T10:00:00+08:00",
        "items": [{"item": "other", "state": "ok"}], "attachment_ids": ids,
    }  # fmt: skip
    for path, body in (
        (f"/api/v1/complaints/{complaint['id']}/replies", {"text": "您好", "attachment_ids": ids}),
        (
            f"/api/v1/work-orders/{order['id']}/transitions",
            {"to": "dispatched", "assignee": "x", "attachment_ids": ids},
        ),
        ("/api/v1/inspections", entry),
    ):
        response = client.post(path, json=body, headers=manager)
        assert response.status_code == 422, (path, response.text)
        assert "attachment_ids" in response.text


def test_a_truncated_photo_is_refused_with_the_pdf_renderer_loaded(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    import weasyprint  # noqa: F401 - it makes Pillow lenient for the whole process
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES  # as it leaves it
    status, made = upload(client, make_token(Role.security), photos.jpeg()[:-300])
    assert status == 422, made
    assert ImageFile.LOAD_TRUNCATED_IMAGES  # and as the check leaves it
