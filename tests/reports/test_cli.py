"""`fhub reports run` as a manager uses it: every format to a file, bad options refused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from hub.cli import app

runner = CliRunner()
SITE = "sunshine-garden"


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private SQLite database with one site."""
    monkeypatch.setenv("FH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FH_LOG_LEVEL", "WARNING")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["sites", "add", "--id", SITE, "--name", "阳光花园"]).exit_code == 0
    return tmp_path


def test_each_format_is_written(tmp_path: Path) -> None:
    week = ["--since", "2026-11-23T00:00:00+08:00", "--until", "2026-11-30T00:00:00+08:00"]
    out = tmp_path / "sla.xlsx"
    result = runner.invoke(app, ["reports", "run", "sla", "--out", str(out), *week])
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    assert load_workbook(out).sheetnames == ["概要", "时限达成"]
    out = tmp_path / "hot.csv"
    args = ["reports", "run", "weekly-hot", "--format", "csv", "--lang", "en", "--out", str(out)]
    assert runner.invoke(app, [*args, "--site", SITE]).exit_code == 0
    header = next(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert header[:3] == ["Rank", "Dimension", "Item"]
    out = tmp_path / "monthly.json"
    assert (
        runner.invoke(
            app, ["reports", "run", "monthly", "--format", "json", "--out", str(out)]
        ).exit_code
        == 0
    )
    assert json.loads(out.read_text(encoding="utf-8"))["report"] == "monthly"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (
            ["sla", "--since", "2026-11-30T00:00:00+08:00", "--until", "2026-11-23T00:00:00+08:00"],
            1,
        ),
        (["sla", "--since", "2026-11-23T00:00:00"], 2),
        (["sla", "--since", "yesterday"], 2),
        (["sla", "--site", "nowhere"], 1),
        (["sla", "--format", "pdf"], 2),
        (["weekly", "--format", "csv"], 2),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, args: list[str], code: int) -> None:
    result = runner.invoke(app, ["reports", "run", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == code, result.stdout + result.stderr
    assert not (tmp_path / "x").exists()
