"""The image builds from what the wheel needs: every package pyproject.toml ships is copied."""

from __future__ import annotations

import json
import posixpath
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: its keyword and its arguments."""

    keyword: str
    args: str


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, continuation lines joined, comments dropped."""
    result: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        result.append(Instruction(keyword.upper(), args.strip()))
    return result


def copy_operands(args: str) -> tuple[list[str], str]:
    """Sources and destination of a COPY, in shell or JSON form, flags left out."""
    words = json.loads(args) if args.startswith("[") else shlex.split(args)
    words = [w for w in words if not w.startswith("--")]
    return words[:-1], words[-1]


def landing(source: str, dest: str, workdir: str, *, into: bool) -> str:
    """Where a COPY puts the file `source`, relative to the working directory.

    `into`: the destination is a directory (several sources, or a trailing slash).
    """
    target = posixpath.normpath(posixpath.join(workdir, dest))
    if into or dest.endswith("/") or posixpath.normpath(dest) == ".":
        target = posixpath.join(target, posixpath.basename(source))
    return posixpath.relpath(target, workdir)


def copied(text: str) -> dict[str, int]:
    """Context paths copied to the same path under WORKDIR, by instruction index ("." = all)."""
    workdir = "/"
    found: dict[str, int] = {}
    for index, ins in enumerate(instructions(text)):
        if ins.keyword == "WORKDIR":
            workdir = posixpath.join(workdir, ins.args)
        elif ins.keyword in ("COPY", "ADD") and "--from" not in ins.args:
            sources, dest = copy_operands(ins.args)
            for source in sources:
                clean = posixpath.normpath(source)
                if clean == ".":
                    if posixpath.normpath(posixpath.join(workdir, dest)) == workdir:
                        found.setdefault(".", index)
                    continue
                directory = (ROOT / clean).is_dir()
                if directory:
                    # A directory's contents go to the destination itself.
                    where = posixpath.relpath(
                        posixpath.normpath(posixpath.join(workdir, dest)), workdir
                    )
                else:
                    where = landing(clean, dest, workdir, into=len(sources) > 1)
                if where == clean:
                    found.setdefault(clean, index)
    return found


def first_install(text: str) -> int:
    """Index of the first RUN that installs the project."""
    for index, ins in enumerate(instructions(text)):
        if ins.keyword == "RUN" and "pip install" in ins.args:
            return index
    raise AssertionError("the Dockerfile never installs the project")


def test_every_wheel_package_is_copied_before_the_install() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    needed = [*packages, "pyproject.toml", pyproject["project"]["readme"]]
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    paths = copied(text)
    install = first_install(text)
    for name in needed:
        index = paths.get(name, paths.get("."))
        assert index is not None, f"the Dockerfile does not copy {name}"
        assert index < install, f"{name} is copied after the install"


def test_the_parser_reads_the_forms_a_dockerfile_uses() -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\n# a comment\n"
        'COPY ["pyproject.toml", "README.md", "./"]\n'
        "COPY --chown=1000 hub hub\nCOPY devices \\\n  devices/\n"
        "COPY bridges ./\nCOPY deploy/mosquitto.conf deploy/mosquitto.conf\nRUN pip install .\n"
    )
    paths = copied(text)
    assert set(paths) == {
        "pyproject.toml",
        "README.md",
        "hub",
        "devices",
        "deploy/mosquitto.conf",
    }
    assert first_install(text) == 7
    assert copied("WORKDIR /app\nCOPY . .\n") == {".": 1}


def test_the_image_migrates_before_it_serves_and_checks_readiness() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    found = {ins.keyword: ins.args for ins in instructions(text)}
    command = " ".join(json.loads(found["CMD"]))
    assert command.index("fhub db upgrade") < command.index("fhub serve")
    assert "/readyz" in found["HEALTHCHECK"]
