# ruff: noqa: E501 -- raw SQL reads best on one line
"""An administrator edits the stored chains: the API, the CLI and a pack made before see it.

Each case tampers with a committed database of each kind, with raw SQL, as someone with
database access but without the hub's key would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.app import create_app
from hub.auth.enums import Role
from hub.auth.service import create_user, issue_token
from hub.cli import app as fhub
from hub.clock import ManualClock
from hub.evidence import pack, timeline
from hub.evidence.keys import Keyring
from hub.evidence.verify import chain_body, link, verify_pack
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.settings import Settings
from tests.conftest import SITE, bearer
from tests.pipeline import register, send

DEVICE = "restroom-club-2f"


@dataclass
class World:
    """A committed database with one device's chain, a pack made of it, and how to reach it."""

    engine: Engine
    settings: Settings
    clock: ManualClock
    pack: Path
    token: str

    def sql(self, statement: str, **params: object) -> list[tuple[object, ...]]:
        """Run raw SQL and commit it."""
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []

    def ids(self) -> list[int]:
        """The device's signal ids in chain order."""
        rows = self.sql("SELECT id FROM signals WHERE device_id = :d ORDER BY id", d=DEVICE)
        return [int(r[0]) for r in rows]


@pytest.fixture
def world(fresh_engine: Engine, tmp_path: Path) -> World:
    clock = ManualClock()
    url = fresh_engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path, database_url=url)
    with Session(fresh_engine, expire_on_commit=False) as db:
        room = register(db, clock, SITE, [(DEVICE, DeviceKind.restroom, "clubhouse/2/men")])[DEVICE]
        for level in (60, 40, 22, 9, 3, 0):
            send(db, clock, room, {"paper_pct": level})
            clock.advance(minutes=2)
        user = create_user(
            session=db, name="mgr", role=Role.manager, site_ids=[SITE], now=clock.now()
        )
        token = issue_token(
            session=db, user=user, pepper=settings.token_pepper.get_secret_value(), now=clock.now()
        )
        keyring = Keyring.open(settings.key_dir, now=clock.now())
        device = db.get_one(Device, DEVICE)
        subject = timeline.for_device(
            device=device, since=clock.now() - timedelta(hours=1), until=clock.now()
        )
        made = pack.build(
            session=db,
            subject=subject,
            keyring=keyring,
            now=clock.now(),
            zone=settings.zone,
            actor="t",
        )
        db.commit()
    path = tmp_path / "before.zip"
    path.write_bytes(made.data)
    return World(fresh_engine, settings, clock, path, token)


def _edit_payload(w: World) -> None:
    w.sql("UPDATE signals SET payload = :p WHERE id = :i", p='{"paper_pct": 99}', i=w.ids()[2])


def _delete_middle(w: World) -> None:
    w.sql("DELETE FROM signals WHERE id = :i", i=w.ids()[2])


def _cut_tail_and_rewind(w: World) -> None:
    ids = w.ids()
    (digest,) = w.sql("SELECT digest FROM signals WHERE id = :i", i=ids[3])[0]
    w.sql("DELETE FROM signals WHERE id IN (:a, :b)", a=ids[4], b=ids[5])
    w.sql(
        "UPDATE device_states SET signal_count = 4, head_digest = :h WHERE device_id = :d",
        h=digest,
        d=DEVICE,
    )


def _insert_and_rechain(w: World) -> None:
    """A forged reading put in the middle, every digest after it recomputed, the head moved."""
    cols = "device_id, site_id, kind, channel, type, ts, received_at, idem_key, payload"
    rows = w.sql(f"SELECT {cols} FROM signals WHERE device_id = :d ORDER BY id", d=DEVICE)
    ids = w.ids()
    w.sql("DELETE FROM signals WHERE id >= :i", i=ids[3])
    forged = (*rows[2][:7], "h:forged", '{"paper_pct": 50}')
    for row in [forged, *rows[3:]]:
        w.sql(f"INSERT INTO signals ({cols}, prev_digest, digest) VALUES "
              "(:a, :b, :c, :e, :f, :g, :h, :k, :p, '', '')",
              a=row[0], b=row[1], c=row[2], e=row[3], f=row[4], g=row[5], h=row[6], k=row[7],
              p=row[8] if isinstance(row[8], str) else __import__("json").dumps(row[8]))  # fmt: skip
    _rechain(w)


def _rechain(w: World) -> None:
    from hub.evidence.chains import links

    with Session(w.engine) as db:
        prev = "0" * 64
        count = 0
        for item in list(links(session=db, device_id=DEVICE)):
            digest = link(
                prev,
                chain_body(  # as the hub links them now: the receipt time covered
                    DEVICE,
                    item.channel,
                    item.type,
                    item.ts.isoformat(),
                    item.key,
                    item.payload,
                    item.received_at.isoformat() if item.received_at else None,
                ),
            )
            db.execute(
                text("UPDATE signals SET prev_digest = :p, digest = :d WHERE id = :i"),
                {"p": prev, "d": digest, "i": item.id},
            )
            prev, count = digest, item.position
        db.execute(
            text(
                "UPDATE device_states SET signal_count = :n, head_digest = :h WHERE device_id = :d"
            ),
            {"n": count, "h": prev, "d": DEVICE},
        )
        db.commit()


def _reorder_timestamps(w: World) -> None:
    ids = w.ids()
    (a,), (b,) = (w.sql("SELECT ts FROM signals WHERE id = :i", i=i)[0] for i in ids[1:3])
    w.sql("UPDATE signals SET ts = :t WHERE id = :i", t=b, i=ids[1])
    w.sql("UPDATE signals SET ts = :t WHERE id = :i", t=a, i=ids[2])


TAMPERS: list[tuple[Callable[[World], None], str]] = [
    (_edit_payload, "edited after it was stored"),
    (_delete_middle, "does not follow"),
    (_cut_tail_and_rewind, "deleted from its end"),
    (_insert_and_rechain, "rewritten since"),
    (_reorder_timestamps, "edited after it was stored"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("tamper", "said"), TAMPERS, ids=[t[0].__name__.strip("_") for t in TAMPERS]
)
def test_tampering_is_caught_by_the_api_the_cli_and_an_earlier_pack(
    world: World, tamper: Callable[[World], None], said: str
) -> None:
    runner = CliRunner()
    env = {
        "FH_DATABASE_URL": world.settings.effective_database_url,
        "FH_DATA_DIR": str(world.settings.data_dir),
    }
    assert runner.invoke(fhub, ["evidence", "check"], env=env).exit_code == 0
    tamper(world)
    client = TestClient(create_app(world.settings, engine=world.engine, clock=world.clock))
    checked = client.get("/api/v1/evidence/check", headers=bearer(world.token)).json()
    assert checked["ok"] is False
    assert any(DEVICE in p and said in p for p in checked["problems"]), checked["problems"]
    timeline_ = client.get(f"/api/v1/devices/{DEVICE}/evidence", headers=bearer(world.token)).json()
    assert timeline_["integrity"]["verified"] is False
    done = runner.invoke(fhub, ["evidence", "check", "--site", SITE], env=env)
    assert done.exit_code == 1
    assert said in done.output
    assert DEVICE in done.output
    assert verify_pack(world.pack.read_bytes()).ok  # the pack made before still stands on its own
    world.sql("DELETE FROM evidence_exports")
    world.sql("DELETE FROM evidence_checkpoints")  # even with every checkpoint gone
    against = runner.invoke(fhub, ["evidence", "check", "--pack", str(world.pack)], env=env)
    assert against.exit_code == 1, against.output
    assert DEVICE in against.output
