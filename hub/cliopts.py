"""What every `fhub` command shares: the `--config` option, settings loaded or a one-line
error, times given on the command line. Plumbing: it knows no domain."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from hub.inputs import parse_time
from hub.settings import Settings, load_settings

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (env FH_* wins).")
]


def fail(message: str, code: int = 2) -> NoReturn:
    """End the command with `error: message` as one line on stderr."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


def settings_problem(exc: ValidationError) -> str:
    """A pydantic error about settings, said in one line with the names a user sets."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        if not loc:
            problems.append(error["msg"])
        elif error["type"] == "extra_forbidden":
            problems.append(f"unknown setting {loc[0]!r}")
        else:
            where = ".".join(loc)
            problems.append(f"{where} (FH_{loc[0].upper()}): {error['msg']}")
    return "invalid settings: " + "; ".join(problems)


def settings_or_exit(config: Path | None) -> Settings:
    """The settings from the environment and `config`, or exit 2 saying what is wrong."""
    try:
        return load_settings(config)
    except ValidationError as exc:
        fail(settings_problem(exc))
    except tomllib.TOMLDecodeError as exc:
        fail(f"config file {config}: {exc}")
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))


def when_or_exit(text: str | None, name: str) -> datetime | None:
    """`--{name}` as an aware time (ISO-8601 with its offset), or exit 2."""
    if text is None:
        return None
    try:
        value = parse_time(text)
    except ValueError as exc:
        fail(f"--{name}: {exc}: {text!r}")
    return value
