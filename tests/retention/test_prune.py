# ruff: noqa: E501 -- raw SQL reads best on one line
"""Retention on both databases: old steady telemetry goes, state changes, events and what
alarms and orders refer to stay, and every chain still verifies, in the hub and in a pack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.cli import app as fhub
from hub.clock import ManualClock
from hub.db import session_factory
from hub.evidence import checkpoints, pack, timeline
from hub.evidence.flows import check_site
from hub.evidence.keys import Keyring
from hub.evidence.verify import verify_pack
from hub.registry.enums import DeviceKind
from hub.registry.models import Device
from hub.retention.flows import PruneReport
from hub.retention.jobs import prune
from hub.retention.models import PrunedRun
from hub.settings import Settings
from hub.signals.models import DeviceState, Signal
from tests.conftest import SITE
from tests.pipeline import register, send

START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
PRUNE_AT = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _fill(engine: Engine, clock: ManualClock, keyring: Keyring) -> None:
    """A month of a corridor light, a leak sensor with one leak, and a gate (kept for good)."""
    with Session(engine, expire_on_commit=False) as db:
        devices = register(
            db,
            clock,
            SITE,
            [
                ("light-1", DeviceKind.light, "3/12"),
                ("leak-1", DeviceKind.leak, "4/2"),
                ("gate-1", DeviceKind.gate, "P1/B1"),
            ],
        )
        light, leak, gate = devices["light-1"], devices["leak-1"], devices["gate-1"]
        for n in range(50):  # on 40 minutes, off 5, on 5: three state changes
            send(db, clock, light, {"on": not 40 <= n < 45, "power_w": 9.0})
            send(db, clock, gate, {"arm": "down", "loop_occupied": False})
            clock.advance(minutes=1)
            if n == 30:  # a checkpoint whose head will lie inside a pruned run
                checkpoints.make(session=db, site_id=SITE, keyring=keyring, now=clock.now())
        send(db, clock, light, {"type": "switched", "on": True, "source": "panel"}, channel="event")
        clock.set(START + timedelta(days=1))
        for _ in range(20):  # steady and dry
            send(db, clock, leak, {"leak": False, "battery": 90})
            clock.advance(minutes=10)
        clock.set(START + timedelta(days=9))
        for _ in range(10):  # the hours before the leak: the order's evidence window
            send(db, clock, leak, {"leak": False, "battery": 90})
            clock.advance(minutes=10)
        send(db, clock, leak, {"leak": True, "battery": 90})
        for _ in range(5):
            clock.advance(minutes=1)
            send(db, clock, leak, {"leak": False, "battery": 90})
        clock.set(PRUNE_AT - timedelta(days=2))
        for _ in range(3):  # recent: inside the retention period
            send(db, clock, light, {"on": True, "power_w": 9.0})
            send(db, clock, leak, {"leak": False, "battery": 89})
            clock.advance(minutes=1)
        db.commit()


def _settings(engine: Engine, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=engine.url.render_as_string(hide_password=False),
        retention_days={"light": 7, "leak": 7},
        retention_batch=10,
    )


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as db:
        rows = db.execute(select(Signal.device_id, func.count()).group_by(Signal.device_id))
        return {d: int(n) for d, n in rows}


def _problems(engine: Engine, keyring: Keyring, settings: Settings) -> list[str]:
    with Session(engine) as db:
        return check_site(session=db, site_id=SITE, keyring=keyring, zone=settings.zone).problems()


@pytest.fixture
def filled(fresh_engine: Engine, tmp_path: Path) -> tuple[Engine, Settings, Keyring]:
    clock = ManualClock(START)
    settings = _settings(fresh_engine, tmp_path)
    keyring = Keyring.open(settings.key_dir, now=clock.now())
    _fill(fresh_engine, clock, keyring)
    return fresh_engine, settings, keyring


def _prune(
    engine: Engine, settings: Settings, keyring: Keyring, dry_run: bool = False
) -> PruneReport:
    return prune(
        sessions=session_factory(engine),
        settings=settings,
        keyring=keyring,
        now=PRUNE_AT,
        dry_run=dry_run,
    )


def test_steady_old_telemetry_goes_and_the_chains_still_verify(
    filled: tuple[Engine, Settings, Keyring],
) -> None:
    engine, settings, keyring = filled
    before = _counts(engine)
    assert before == {"light-1": 54, "leak-1": 39, "gate-1": 50}
    with Session(engine) as db:
        heads = {
            s.device_id: (s.signal_count, s.head_digest) for s in db.scalars(select(DeviceState))
        }

    dry = _prune(engine, settings, keyring, dry_run=True)
    assert (dry.pruned, dry.per_kind) == (66, {"light": 47, "leak": 19})
    assert _counts(engine) == before  # a dry run deletes nothing

    done = _prune(engine, settings, keyring)
    assert (done.pruned, done.per_kind) == (66, {"light": 47, "leak": 19})
    assert done.batches >= 7  # batches of at most 10
    assert done.checkpoints == done.batches
    assert _counts(engine) == {"light-1": 54 - 47, "leak-1": 39 - 19, "gate-1": 50}
    with Session(engine) as db:
        light = db.execute(
            select(Signal.channel, Signal.payload)
            .where(Signal.device_id == "light-1")
            .order_by(Signal.id)
        ).all()
        after = {
            s.device_id: (s.signal_count, s.head_digest) for s in db.scalars(select(DeviceState))
        }
        runs = db.scalars(select(PrunedRun).order_by(PrunedRun.id)).all()
    # kept: the first reading, switched off, back on, the event, the three recent readings
    assert [(c, p.get("on")) for c, p in light] == [
        ("telemetry", True), ("telemetry", False), ("telemetry", True), ("event", True),
        ("telemetry", True), ("telemetry", True), ("telemetry", True),
    ]  # fmt: skip
    assert after == heads  # the heads are the chains' own: nothing to rewrite
    assert all(r.count <= 10 and r.checkpoint_id is not None for r in runs)
    assert _problems(engine, keyring, settings) == []

    again = _prune(engine, settings, keyring)
    assert again.pruned == 0
    assert _problems(engine, keyring, settings) == []


def test_a_pack_over_pruned_days_verifies_offline(
    filled: tuple[Engine, Settings, Keyring],
) -> None:
    engine, settings, keyring = filled
    _prune(engine, settings, keyring)
    with Session(engine) as db:
        device = db.get_one(Device, "light-1")
        subject = timeline.for_device(device=device, since=START, until=PRUNE_AT)
        made = pack.build(
            session=db,
            subject=subject,
            keyring=keyring,
            now=PRUNE_AT,
            zone=settings.zone,
            actor="t",
        )
        db.commit()
    report = verify_pack(made.data, trusted=keyring.public_key)
    assert report.problems == []
    assert report.signals == 7
    assert not made.problems


def test_a_deletion_nobody_signed_still_shows(filled: tuple[Engine, Settings, Keyring]) -> None:
    engine, settings, keyring = filled
    _prune(engine, settings, keyring)
    with engine.begin() as conn:
        switched_off = conn.execute(
            text("SELECT id FROM signals WHERE device_id = 'light-1' ORDER BY id LIMIT 1 OFFSET 1")
        ).scalar_one()
        conn.execute(text("DELETE FROM signals WHERE id = :i"), {"i": switched_off})
    problems = _problems(engine, keyring, settings)
    assert any("light-1" in p and "does not follow" in p for p in problems)


def test_a_forged_record_of_pruned_signals_is_refused(
    filled: tuple[Engine, Settings, Keyring],
) -> None:
    engine, settings, keyring = filled
    _prune(engine, settings, keyring)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE signal_pruned_runs SET count = count + 1 WHERE id = (SELECT min(id) FROM signal_pruned_runs WHERE device_id = 'leak-1')"
            )
        )
    problems = _problems(engine, keyring, settings)
    assert any("leak-1" in p and "does not verify" in p for p in problems)


def test_the_command_prunes_and_says_what_a_dry_run_would_do(
    filled: tuple[Engine, Settings, Keyring], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, settings, _keyring = filled
    monkeypatch.setenv("FH_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("FH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FH_RETENTION_DAYS", '{"light": 7, "leak": 7}')
    runner = CliRunner()
    dry = runner.invoke(fhub, ["retention", "prune", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would prune" in dry.output
    # The clock is today's: everything of October is older than seven days.
    assert _counts(engine) == {"light-1": 54, "leak-1": 39, "gate-1": 50}
    monkeypatch.setenv("FH_RETENTION_DAYS", '{"lamp": 7}')
    bad = runner.invoke(fhub, ["retention", "prune"])
    assert bad.exit_code == 2
    assert "unknown device kinds: lamp" in bad.output
    monkeypatch.setenv("FH_RETENTION_DAYS", '{"light": 99999999999}')
    huge = runner.invoke(fhub, ["retention", "prune"])
    assert huge.exit_code == 2
    assert "between 1 and 36500" in huge.output


def test_photos_evidence_refers_to_are_never_pruned(
    filled: tuple[Engine, Settings, Keyring],
) -> None:
    """Retention prunes raw telemetry only: a month-old photo on the leak's order stays."""
    import io

    from hub.attachments.models import Attachment
    from hub.attachments.service import Store, attach, receive
    from hub.workorders.models import WorkOrder
    from tests.attachments import photos

    engine, settings, keyring = filled
    store = Store(settings.attachments_root)
    with Session(engine, expire_on_commit=False) as db:
        order = db.scalars(select(WorkOrder)).one()
        photo = receive(
            session=db, store=store, site_id=SITE, source=io.BytesIO(photos.jpeg()),
            actor="工程 王", now=START + timedelta(days=9), zone=settings.zone,
        )  # fmt: skip
        attach(
            session=db, site_id=SITE, attachment_ids=[photo.id], actor="工程 王",
            now=START + timedelta(days=9, hours=2), work_order_id=order.id,
        )  # fmt: skip
        db.commit()
    assert _prune(engine, settings, keyring).pruned == 66
    with Session(engine) as db:
        assert db.scalar(select(func.count()).select_from(Attachment)) == 1
        order = db.scalars(select(WorkOrder)).one()
        subject = timeline.for_order(session=db, order=order, now=PRUNE_AT)
        made = pack.build(
            session=db, subject=subject, keyring=keyring, now=PRUNE_AT, zone=settings.zone,
            actor="test", photos=store,
        )  # fmt: skip
    assert store.path_of(photo.sha256).is_file()
    assert verify_pack(made.data).ok, verify_pack(made.data).problems
    assert f"attachments/{photo.sha256}".encode() in made.data
