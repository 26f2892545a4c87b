"""A bad configuration stops `fhub demo` and `fhub serve` before they start or print anything.

Each case must end with exit code 2, nothing on stdout and one `error:` line on stderr,
and no database created.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app

runner = CliRunner()
SECRET = "a-real-secret-for-this-test"  # noqa: S105 - so `serve` gets past the demo pepper

RULES = {
    "missing.toml": None,
    "bad-value.toml": '[defaults.light.lamp_failure]\nfor_s = "soon"\n',
    "unknown-rule.toml": "[sites.sunshine-garden.gate.lane_jammed]\nfor_s = 60\n",
    "not-a-table.toml": "[defaults]\nlight = 3\n",
    "broken.toml": "[defaults.light\n",
}

CASES = [
    pytest.param({"FH_RULES_FILE": "missing.toml"}, "missing.toml", id="rules-file-missing"),
    pytest.param({"FH_RULES_FILE": "bad-value.toml"}, "for_s: expected int", id="rules-value"),
    pytest.param({"FH_RULES_FILE": "unknown-rule.toml"}, "lane_jammed", id="rules-unknown-rule"),
    pytest.param({"FH_RULES_FILE": "not-a-table.toml"}, "malformed", id="rules-shape"),
    pytest.param({"FH_RULES_FILE": "broken.toml"}, "broken.toml", id="rules-toml"),
    pytest.param({"FH_API_PORT": "eighty"}, "FH_API_PORT", id="setting-type"),
    pytest.param({"FH_RULES_CHECK_SECONDS": "0"}, "FH_RULES_CHECK_SECONDS", id="setting-range"),
    pytest.param({"FH_LOG_LEVEL": "LOUD"}, "FH_LOG_LEVEL", id="log-level"),
    pytest.param({"FH_DATABASE_URL": "nosuch://db"}, "FH_DATABASE_URL", id="database-url"),
    pytest.param(
        {"FH_SLA": '{"plumbing": {"urgent": {"on_site": 3}}}'}, "plumbing", id="sla-department"
    ),
    pytest.param(
        {"FH_SLA": '{"engineering": {"urgent": {"on_site": 0}}}'}, "FH_SLA", id="sla-minutes"
    ),
    pytest.param(
        {"FH_COMPLAINT_STEP_MINUTES": '{"verifyed": 15}'}, "verifyed", id="complaint-step"
    ),
]


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory of its own and the rules files of the cases, as the working dir.

    Broker and ports point nowhere shared, so a command that wrongly starts touches nothing.
    """
    for name, text in RULES.items():
        if text is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("FH_DATABASE_URL", raising=False)
    monkeypatch.setenv("FH_TOKEN_PEPPER", SECRET)
    monkeypatch.setenv("FH_MQTT_URL", f"mqtt://127.0.0.1:{free_port()}")
    monkeypatch.setenv("FH_MQTT_CLIENT_ID", f"fhub-cli-test-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("FH_API_PORT", str(free_port()))
    return tmp_path


def assert_refused(code: int, stdout: str, stderr: str, fragment: str, workdir: Path) -> None:
    """Exit 2, a single `error:` line naming the problem, nothing else done."""
    assert code == 2, (stdout, stderr)
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert not (workdir / "var").exists()  # no database was made


@pytest.mark.parametrize("command", [["demo"], ["serve", "--no-api"]])
@pytest.mark.parametrize(("env", "fragment"), CASES)
def test_a_bad_configuration_is_one_line_and_exit_2(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    env: dict[str, str],
    fragment: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if command == ["demo"]:
        command = [*command, "--port", str(free_port())]
    result = runner.invoke(app, command)
    assert_refused(result.exit_code, result.stdout, result.stderr, fragment, workdir)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("api_prot = 8080\n", "unknown setting 'api_prot'"),
        ("api_port = [\n", "config file"),
    ],
)
@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_bad_config_file_is_one_line_and_exit_2(
    workdir: Path, command: str, text: str, fragment: str
) -> None:
    config = workdir / "hub.toml"
    config.write_text(text, encoding="utf-8")
    extra = ["--port", str(free_port())] if command == "demo" else ["--no-api"]
    result = runner.invoke(app, [command, "--config", str(config), *extra])
    assert_refused(result.exit_code, result.stdout, result.stderr, fragment, workdir)


def test_serve_checks_the_broker_url_when_it_runs_the_bridge(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FH_MQTT_URL", "http://broker.example:1883")
    result = runner.invoke(app, ["serve", "--no-api"])
    assert_refused(result.exit_code, result.stdout, result.stderr, "FH_MQTT_URL", workdir)
    monkeypatch.setenv("FH_MQTT_URL", "mqtts://127.0.0.1:8883")
    monkeypatch.setenv("FH_MQTT_CA_FILE", str(workdir / "no-such-ca.pem"))
    result = runner.invoke(app, ["serve", "--no-api"])
    assert_refused(result.exit_code, result.stdout, result.stderr, "FH_MQTT_CA_FILE", workdir)


@pytest.mark.parametrize(
    ("command", "env"),
    [
        (["demo", "--port", str(free_port())], {"FH_RULES_FILE": "bad-value.toml"}),
        (["serve"], {"FH_COMPLAINT_STEP_MINUTES": '{"verifyed": 15}'}),
    ],
)
def test_the_real_process_stops_before_starting(
    workdir: Path, command: list[str], env: dict[str, str]
) -> None:
    """As a person runs it: nothing printed on stdout, no broker, no port taken."""
    fhub = Path(sys.executable).with_name("fhub")
    proc = subprocess.run(
        [str(fhub), *command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    fragment = "for_s" if "FH_RULES_FILE" in env else "verifyed"
    assert_refused(proc.returncode, proc.stdout, proc.stderr, fragment, workdir)


def test_serve_refuses_a_database_behind_the_code(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FH_DATABASE_URL", f"sqlite:///{(workdir / 'empty.db').as_posix()}")
    result = runner.invoke(app, ["serve", "--no-api", "--no-bridge"])
    assert_refused(result.exit_code, result.stdout, result.stderr, "fhub db upgrade", workdir)


def test_serve_refuses_a_short_token_pepper(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FH_TOKEN_PEPPER", "hunter2")
    result = runner.invoke(app, ["serve", "--no-api"])
    assert_refused(result.exit_code, result.stdout, result.stderr, "FH_TOKEN_PEPPER", workdir)


@pytest.mark.parametrize("taken", ["http", "mqtt"])
def test_demo_on_a_taken_port_says_so_before_printing_anything(workdir: Path, taken: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = str(holder.getsockname()[1])
        free = str(free_port())
        http, mqtt = (busy, free) if taken == "http" else (free, busy)
        result = runner.invoke(app, ["demo", "--no-sim", "--port", http, "--mqtt-port", mqtt])
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert busy in line
