# ruff: noqa: E501 -- raw SQL reads best on one line
"""A pack cannot vouch for a tampered chain: export refuses (exit 1, a 409) and signs no
checkpoint; a backdated append is caught; verify refuses recorded problems, a manifest
re-signed by another key, duplicate ZIP members and a ZIP that inflates past its bound."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.app import create_app
from hub.cli import app as fhub
from hub.errors import Conflict
from hub.evidence import checkpoints
from hub.evidence.canonical import canonical
from hub.evidence.keys import Keyring
from hub.evidence.verify import MANIFEST, MAX_PACK, SIGNATURE, verify_pack
from tests.conftest import SITE, bearer
from tests.evidence.test_tamper import DEVICE, TAMPERS, World, _cut_tail_and_rewind, _rechain, world

__all__ = ["world"]


def _count(w: World) -> int:
    return int(w.sql("SELECT count(*) FROM evidence_checkpoints")[0][0])  # type: ignore[call-overload]


def _env(w: World) -> dict[str, str]:
    return {
        "FH_DATABASE_URL": w.settings.effective_database_url,
        "FH_DATA_DIR": str(w.settings.data_dir),
    }


def _backdated_append(w: World) -> None:
    """A reading appended at the end, its `ts` and `received_at` set an hour back, the chain
    recomputed over it and the head moved: every digest is right."""
    cols = "device_id, site_id, kind, channel, type, ts, received_at, idem_key, payload"
    row = w.sql(f"SELECT {cols} FROM signals WHERE device_id = :d ORDER BY id", d=DEVICE)[-1]
    at = w.clock.now() - timedelta(hours=1)
    w.sql(f"INSERT INTO signals ({cols}, prev_digest, digest) VALUES "
          "(:a, :b, :c, :e, :f, :g, :h, :k, :p, '', '')",
          a=row[0], b=row[1], c=row[2], e=row[3], f=row[4], g=at, h=at, k="h:backdated",
          p='{"paper_pct": 80}')  # fmt: skip
    _rechain(w)


CASES: list[tuple[Callable[[World], None], str]] = [
    *TAMPERS,
    (_backdated_append, "receipt times run backwards"),
]


@pytest.mark.parametrize(("tamper", "said"), CASES, ids=[t[0].__name__.strip("_") for t in CASES])
def test_export_refuses_a_tampered_chain_and_signs_no_checkpoint(
    world: World, tmp_path: Path, tamper: Callable[[World], None], said: str
) -> None:
    tamper(world)
    before = _count(world)
    out = tmp_path / "after.zip"
    runner = CliRunner()
    done = runner.invoke(
        fhub, ["evidence", "export", "--device", DEVICE, "--out", str(out)], env=_env(world)
    )
    assert done.exit_code == 1, done.output
    assert said in done.output
    assert not out.exists()
    client = TestClient(create_app(world.settings, engine=world.engine, clock=world.clock))
    answer = client.post(
        "/api/v1/evidence/exports", json={"device_id": DEVICE}, headers=bearer(world.token)
    )
    assert answer.status_code == 409, answer.text
    assert any(said in p for p in answer.json()["error"]["details"])
    checked = client.get("/api/v1/evidence/check", headers=bearer(world.token)).json()
    assert any(said in p for p in checked["problems"])
    assert _count(world) == before


def test_no_checkpoint_over_a_head_that_disagrees_with_the_last(world: World) -> None:
    ids = world.ids()
    world.sql("DELETE FROM signals WHERE id = :i", i=ids[-1])
    (digest,) = world.sql("SELECT digest FROM signals WHERE id = :i", i=ids[-2])[0]
    world.sql(
        "UPDATE device_states SET signal_count = signal_count - 1, head_digest = :h WHERE device_id = :d",
        h=digest,
        d=DEVICE,
    )
    keyring = Keyring.open(world.settings.key_dir, now=world.clock.now())
    with Session(world.engine) as db, pytest.raises(Conflict, match="disagrees"):
        checkpoints.make(session=db, site_id=SITE, keyring=keyring, now=world.clock.now())


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def _zip(files: dict[str, bytes], extra: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*files.items(), *extra]:
            archive.writestr(name, data)
    return buffer.getvalue()


def _resigned(files: dict[str, bytes], keyring: Keyring, **manifest: object) -> bytes:
    document = {**json.loads(files[MANIFEST]), **manifest}
    document["files"] = {
        n: __import__("hashlib").sha256(d).hexdigest()
        for n, d in sorted(files.items())
        if n not in (MANIFEST, SIGNATURE)
    }
    files[MANIFEST] = canonical(document)
    files[SIGNATURE] = keyring.sign(files[MANIFEST]).encode()
    return _zip(files)


def test_verify_fails_on_the_problems_recorded_at_export(world: World) -> None:
    files = _members(world.pack.read_bytes())
    keyring = Keyring.open(world.settings.key_dir, now=world.clock.now())
    data = _resigned(files, keyring, problems_at_export=[f"{SITE}/{DEVICE}: deleted"])
    report = verify_pack(data)
    assert not report.ok
    assert any("problem when it made the pack" in p for p in report.problems)


def test_verify_without_key_refuses_a_manifest_resigned_by_another_key(
    world: World, tmp_path: Path
) -> None:
    files = _members(world.pack.read_bytes())
    other = Keyring.open(tmp_path / "other-keys", now=world.clock.now())
    keys = json.loads(files["keys.json"])
    keys.update({k: v.public_key for k, v in other.public_keys().items()})
    files["keys.json"] = canonical(keys)
    report = verify_pack(_resigned(files, other, key_id=other.current))
    assert not report.ok
    assert any("another key than the checkpoint's" in p for p in report.problems), report.problems


def test_verify_refuses_a_member_named_twice(world: World) -> None:
    files = _members(world.pack.read_bytes())
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = _zip(files, [("records.jsonl", b"{}\n")])
    report = verify_pack(data)
    assert not report.ok
    assert any("more than once" in p for p in report.problems)


def test_verify_refuses_a_zip_bomb_unread(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    chunk = b"\0" * (1 << 20)
    with (
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("records.jsonl", "w", force_zip64=True) as member,
    ):
        for _ in range(MAX_PACK // len(chunk) + 1):
            member.write(chunk)
    data = bomb.read_bytes()
    assert len(data) < MAX_PACK // 500
    tracemalloc.start()
    report = verify_pack(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not report.ok
    assert any("more than a pack holds" in p for p in report.problems)
    assert peak < 10 * len(data) + (1 << 20)


def test_deleted_checkpoints_are_caught_by_their_published_copies(world: World) -> None:
    runner = CliRunner()
    journal = world.settings.key_dir / "checkpoints" / f"{SITE}.jsonl"
    (line,) = journal.read_bytes().splitlines()
    assert json.loads(line)["seq"] == 1
    _cut_tail_and_rewind(world)
    world.sql("DELETE FROM evidence_exports")
    world.sql("DELETE FROM evidence_checkpoints")
    done = runner.invoke(fhub, ["evidence", "check", "--site", SITE], env=_env(world))
    assert done.exit_code == 1
    assert "published checkpoint 1 is not in the database" in done.output
    assert "deleted from its end" in done.output
    again = runner.invoke(fhub, ["evidence", "checkpoint"], env=_env(world))
    assert again.exit_code == 1
    assert "not in the database" in again.output
    assert _count(world) == 0


def test_a_restart_in_the_published_numbers_is_a_problem(world: World) -> None:
    journal = world.settings.key_dir / "checkpoints" / f"{SITE}.jsonl"
    journal.write_bytes(journal.read_bytes() * 2)
    done = CliRunner().invoke(fhub, ["evidence", "check", "--site", SITE], env=_env(world))
    assert done.exit_code == 1
    assert "a gap or a restart" in done.output


def test_each_checkpoint_goes_to_the_outbox(world: World) -> None:
    rows = world.sql("SELECT topic FROM outbox WHERE topic LIKE '%/hub/checkpoint'")
    assert rows == [(f"fh/{SITE}/hub/checkpoint",)]
