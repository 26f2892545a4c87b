"""Witnesses: a co-signer with its own key and state refuses a forked or shrunk history, the
hub collects co-signatures over HTTP, packs carry them, and verify requires the named ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.auth.enums import Role
from hub.cli import app as fhub
from hub.clock import ManualClock
from hub.evidence import checkpoints
from hub.evidence.cli import cosign_new
from hub.evidence.keys import Keyring
from hub.evidence.verify import checkpoint_statement
from hub.evidence.witness import Refused, Witness, root_of
from hub.registry.enums import DeviceKind
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

pytestmark = pytest.mark.usefixtures("sites")
GATE = "gate-garage"


def _resigned(shown: dict[str, Any], keyring: Keyring, **changes: Any) -> dict[str, Any]:
    """A checkpoint the hub's key signed, with `changes` (a forked or rewritten one)."""
    forged = {**shown, **changes}
    forged["root"] = root_of(forged["heads"])
    forged["tree_size"] = len(forged["heads"])
    forged["signature"] = keyring.sign(checkpoint_statement(forged))
    return forged


def _history(db: Session, clock: ManualClock, keyring: Keyring, n: int) -> list[dict[str, Any]]:
    gate = register(db, clock, SITE, [(GATE, DeviceKind.gate, "garage/entrance")])[GATE]
    shown = []
    for i in range(n):
        send(db, clock, gate, {"arm": "up" if i % 2 else "down", "loop_occupied": False})
        clock.advance(minutes=5)
        row = checkpoints.make(session=db, site_id=SITE, keyring=keyring, now=clock.now())
        shown.append(checkpoints.shown_to_witness(row))
    db.commit()
    return shown


def test_a_witness_co_signs_in_order_and_refuses_a_fork_or_a_shrunk_chain(
    db: Session, clock: ManualClock, tmp_path: Path
) -> None:
    keyring = Keyring.open(tmp_path / "hub-keys", now=clock.now())
    one, two, three = _history(db, clock, keyring, 3)
    me = Witness.open(tmp_path / "committee")
    assert me.cosign(one, hub_key=keyring.public_key)["witness"] == me.id
    assert me.cosign(two, hub_key=keyring.public_key)
    fork = _resigned(three, keyring, prev="f" * 64)  # a history that does not follow #2
    with pytest.raises(Refused, match="does not follow"):
        me.cosign(fork, hub_key=keyring.public_key)
    shrunk = _resigned(three, keyring, heads=[[GATE, 1, one["heads"][0][2]]])  # 3 signals → 1
    with pytest.raises(Refused, match="went from 2 signals to 1"):
        me.cosign(shrunk, hub_key=keyring.public_key)
    with pytest.raises(Refused, match="hub's signature"):
        me.cosign({**three, "signature": fork["signature"]}, hub_key=keyring.public_key)
    assert me.cosign(three, hub_key=keyring.public_key)  # the true one still goes through
    again = Witness.open(tmp_path / "committee")  # its key and state outlive the process
    assert again.id == me.id
    assert again.state()[SITE]["seq"] == 3


def test_the_hub_collects_co_signatures_packs_carry_them_and_verify_requires_them(
    db: Session,
    clock: ManualClock,
    app: FastAPI,
    client: TestClient,
    make_token: Callable[..., str],
    tmp_path: Path,
) -> None:
    gate = register(db, clock, SITE, [(GATE, DeviceKind.gate, "garage/entrance")])[GATE]
    send(
        db,
        clock,
        gate,
        {"type": "arm_down", "source": "manual_button", "loop_occupied": True},
        channel="event",
    )
    token = make_token(Role.manager)
    manager = bearer(token)
    client.post(
        "/api/v1/evidence/exports", json={"device_id": GATE}, headers=manager
    )  # checkpoint 1
    committee = Witness.open(tmp_path / "committee")
    with TestClient(app, base_url="http://testserver/api/v1", headers=manager) as api:
        lines = list(cosign_new(api, committee, site=SITE, hub_key=None))
    assert lines == [f"{SITE}: co-signed checkpoint 1 as witness {committee.id}"]
    made = client.post("/api/v1/evidence/exports", json={"device_id": GATE}, headers=manager)
    assert made.status_code == 201
    path = tmp_path / "pack.zip"
    path.write_bytes(made.content)
    runner = CliRunner()
    done = runner.invoke(fhub, ["evidence", "verify", str(path), "--witness", committee.public_key])
    assert done.exit_code == 0, done.output
    assert f"co-signed by witness {committee.public_key}" in done.output
    notary = Witness.open(tmp_path / "notary")
    missing = runner.invoke(fhub, ["evidence", "verify", str(path), "--witness", notary.public_key])
    assert missing.exit_code == 1
    assert f"the required witness {notary.public_key} did not co-sign" in missing.output
    latest = checkpoints.latest(session=db, site_id=SITE)
    assert latest is not None
    shown = checkpoints.shown_to_witness(latest)
    signed = committee.cosign(shown, hub_key=_hub_key(client, manager))["signature"]
    wrong = {
        "site": SITE,
        "witness": notary.id,
        "public_key": notary.public_key,
        "signature": signed,
    }
    refused = client.post(
        "/api/v1/evidence/checkpoints/2/cosignatures", json=wrong, headers=manager
    )
    assert refused.status_code == 422  # a co-signature that is not the witness's own


def test_co_signature_input_is_checked(client: TestClient, make_token: Callable[..., str]) -> None:
    manager = bearer(make_token(Role.manager))
    good = {
        "site": SITE,
        "witness": "0" * 16,
        "public_key": "A" * 43 + "=",
        "signature": "A" * 86 + "==",
    }
    for field, bad in (
        ("site", "a\x00b"),
        ("witness", "x" * 16),
        ("public_key", "A" * 44),
        ("signature", ""),
    ):
        answer = client.post(
            "/api/v1/evidence/checkpoints/1/cosignatures",
            json={**good, field: bad},
            headers=manager,
        )
        assert answer.status_code == 422, (field, answer.text)
    assert (
        client.post(
            "/api/v1/evidence/checkpoints/99999999999/cosignatures", json=good, headers=manager
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/evidence/checkpoints/5/cosignatures", json=good, headers=manager
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/api/v1/evidence/checkpoints", params={"site": "elsewhere"}, headers=manager
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/api/v1/evidence/checkpoints", params={"site": SITE, "after": -1}, headers=manager
        ).status_code
        == 422
    )
    desk = bearer(make_token(Role.front_desk))
    assert (
        client.get("/api/v1/evidence/checkpoints", params={"site": SITE}, headers=desk).status_code
        == 403
    )


def _hub_key(client: TestClient, headers: dict[str, str]) -> str:
    return str(client.get("/api/v1/evidence/public-key", headers=headers).json()["public_key"])
