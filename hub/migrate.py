"""Alembic migrations driven from code: `fhub db upgrade`, and the demo's automatic upgrade."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs on `engine`'s connection."""
    config = Config()
    config.set_main_option("script_location", "hub:migrations")
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to the newest revision."""
    logger.info("applying migrations on %s", engine.url.render_as_string(hide_password=True))
    command.upgrade(alembic_config(engine), revision)


def script_heads() -> set[str]:
    """The newest revisions the code knows."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "hub:migrations")
    return set(ScriptDirectory.from_config(config).get_heads())


def is_current(engine: Engine) -> bool:
    """Whether the database is at the schema this code expects."""
    return current_heads(engine) == script_heads()


def current_heads(engine: Engine) -> set[str]:
    """The revisions the database is at."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
