# ruff: noqa: E501 -- cases one per line
"""Packs: made through the API, verified offline; any edited part fails `verify`."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.auth.enums import Role
from hub.cli import app as fhub
from hub.clock import ManualClock
from hub.evidence.verify import chain_body, link, verify_pack
from hub.registry.enums import DeviceKind
from hub.signals.service import chain_digest
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

DEVICE = "gate-garage"


@pytest.fixture
def made(
    db: Session, clock: ManualClock, client: TestClient, make_token: Callable[..., str]
) -> bytes:
    """A device pack of a gate's traffic, from `POST /evidence/exports`."""
    gate = register(db, clock, SITE, [(DEVICE, DeviceKind.gate, "garage/entrance")])[DEVICE]
    send(db, clock, gate, {"arm": "up", "loop_occupied": True})
    clock.advance(seconds=4)
    send(
        db,
        clock,
        gate,
        {"type": "arm_down", "source": "manual_button", "loop_occupied": True},
        channel="event",
    )
    clock.advance(minutes=1)
    manager = bearer(make_token(Role.manager))
    response = client.post("/api/v1/evidence/exports", json={"device_id": DEVICE}, headers=manager)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/zip"
    return response.content


def _rewrite(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.namelist():
            body = src.read(member)
            dst.writestr(member, change(body) if member == name else body)
    return out.getvalue()


def _flip_hex(body: bytes) -> bytes:
    text = body.decode()
    at = next(i for i, c in enumerate(text) if c in "0123456789abcdef" and i > 20)
    return (text[:at] + ("1" if text[at] != "1" else "2") + text[at + 1 :]).encode()


EDITS: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("records.jsonl", lambda b: b.replace(b"manual_button", b"auto_________")),
    ("records.jsonl", lambda b: b"\n".join(b.splitlines()[1:]) + b"\n"),
    (f"chains/{DEVICE}.jsonl", lambda b: b.replace(b"manual_button", b"remote")),
    ("proofs.json", _flip_hex),
    ("checkpoint.json", lambda b: b.replace(b'"seq":', b'"seq":1')),
    ("manifest.sig", lambda b: b[:-4] + (b"AAAA" if not b.endswith(b"AAAA") else b"BBBB")),
    ("keys.json", _flip_hex),
    ("manifest.json", lambda b: b.replace(b'"device"', b'"devices"')),
    ("summary.html", lambda b: b.replace(b"manual_button", b"auto")),
]


def test_an_intact_pack_verifies_offline(made: bytes, tmp_path: Path) -> None:
    report = verify_pack(made)
    assert report.ok, report.problems
    assert report.signals == 2
    with zipfile.ZipFile(io.BytesIO(made)) as archive:
        html = archive.read("summary.html").decode()
        records = [json.loads(line) for line in archive.read("records.jsonl").splitlines()]
    assert "证据包 Evidence pack" in html
    assert "manual_button" in html
    event = next(
        r for r in records if r["type"] == "signal" and r["data"].get("type") == "arm_down"
    )
    assert event["data"]["source"] == "manual_button"
    assert event["at_local"].endswith("+08:00")
    path = tmp_path / "pack.zip"
    path.write_bytes(made)
    done = CliRunner().invoke(fhub, ["evidence", "verify", str(path)])
    assert done.exit_code == 0, done.output
    assert "intact" in done.output


@pytest.mark.parametrize(
    ("name", "edit"), EDITS, ids=[f"{n}-{i}" for i, (n, _e) in enumerate(EDITS)]
)
def test_an_edited_pack_fails(
    made: bytes, tmp_path: Path, name: str, edit: Callable[[bytes], bytes]
) -> None:
    bad = _rewrite(made, name, edit)
    assert bad != made
    report = verify_pack(bad)
    assert not report.ok
    path = tmp_path / "bad.zip"
    path.write_bytes(bad)
    done = CliRunner().invoke(fhub, ["evidence", "verify", str(path)])
    assert done.exit_code == 1
    assert "not intact" in done.output


def test_a_pack_signed_by_another_key_fails_against_the_hubs(
    made: bytes, client: TestClient, make_token: Callable[..., str]
) -> None:
    key = client.get(
        "/api/v1/evidence/public-key", headers=bearer(make_token(Role.engineer))
    ).json()
    assert key["algorithm"] == "Ed25519"
    assert verify_pack(made, trusted=key["public_key"]).ok
    other = "A" * 43 + "="
    assert "not signed by the trusted key" in verify_pack(made, trusted=other).problems[0]
    assert not verify_pack(b"not a zip").ok


def test_exports_are_for_managers_and_refuse_bad_input(
    made: bytes, client: TestClient, make_token: Callable[..., str]
) -> None:
    desk = bearer(make_token(Role.front_desk))
    assert (
        client.post(
            "/api/v1/evidence/exports", json={"device_id": DEVICE}, headers=desk
        ).status_code
        == 403
    )
    manager = bearer(make_token(Role.manager))
    for body, status in [
        ({}, 422),
        ({"device_id": DEVICE, "complaint_id": 1}, 422),
        ({"complaint_id": 2**40}, 422),
        ({"complaint_id": 99}, 404),
        ({"device_id": "gate-\x00"}, 422),
        ({"device_id": DEVICE, "since": "2026-11-23T10:00:00"}, 422),
    ]:
        assert (
            client.post("/api/v1/evidence/exports", json=body, headers=manager).status_code
            == status
        ), body
    other = bearer(make_token(Role.manager, ("maple-court",)))
    assert (
        client.post(
            "/api/v1/evidence/exports", json={"device_id": DEVICE}, headers=other
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/devices/{DEVICE}/evidence", headers=other).status_code == 404
    assert (
        client.get("/api/v1/evidence/check", params={"site": SITE}, headers=other).status_code
        == 404
    )


def test_rotation_keeps_old_checkpoints_valid(
    made: bytes, client: TestClient, app: object, make_token: Callable[..., str], clock: ManualClock
) -> None:
    manager = bearer(make_token(Role.manager))
    before = client.get("/api/v1/evidence/public-key", headers=manager).json()
    keyring = app.state.keyring  # type: ignore[attr-defined]
    app.state.keyring = keyring.rotate(now=clock.now())  # type: ignore[attr-defined]
    after = client.get("/api/v1/evidence/public-key", headers=manager).json()
    assert after["key_id"] != before["key_id"]
    assert {k["key_id"] for k in after["keys"]} == {before["key_id"], after["key_id"]}
    checked = client.get("/api/v1/evidence/check", headers=manager).json()
    assert checked["ok"], checked["problems"]
    assert verify_pack(made).ok


@given(
    st.text(max_size=8),
    st.sampled_from(["telemetry", "event", "status"]),
    st.one_of(st.none(), st.text(max_size=6)),
    st.datetimes(
        timezones=st.just(UTC),
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    ),
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(
            st.integers(-(2**40), 2**40),
            st.floats(allow_nan=False, allow_infinity=False),
            st.booleans(),
            st.text(max_size=5),
        ),
    ),
)
def test_the_offline_digest_is_the_ingest_digest(
    device: str, channel: str, kind: str | None, ts: datetime, payload: dict[str, object]
) -> None:
    prev = "ab" * 32
    body = chain_body(device, channel, kind, ts.isoformat(), "k", payload)
    assert link(prev, body) == chain_digest(
        prev, device_id=device, channel=channel, event_type=kind, ts=ts, key="k", payload=payload
    )
