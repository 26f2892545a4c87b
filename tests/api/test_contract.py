"""schemathesis against the app's own OpenAPI document on PostgreSQL, with each role's token.

Generated requests, valid and invalid, for every operation: no server error, no status the
document does not declare, no response that breaks its schema, no invalid input accepted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from hub import migrate
from hub.app import create_app
from hub.auth.enums import Role
from hub.auth.service import create_user, issue_token
from hub.clock import SystemClock
from hub.db import make_engine, session_factory, session_scope
from hub.registry.service import get_or_create_site
from hub.settings import Settings
from tests.services import postgres_database

pytestmark = pytest.mark.postgres
SITE = "sunshine-garden"
EXAMPLES = 10
"""Generated requests per operation and mode, each sent with every role's token."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def tokens_and_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[Role, str], FastAPI]]:
    """The API on a fresh PostgreSQL database, and a token for each role of the one site."""
    # A live stream ends after a fifth of a second here, so each generated call returns.
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("contract"), stream_max_seconds=0.2)
    with postgres_database("fh_contract") as engine:
        migrate.upgrade(engine)
        now = SystemClock().now()
        tokens: dict[Role, str] = {}
        with session_scope(session_factory(engine)) as session:
            get_or_create_site(session=session, site_id=SITE, name="阳光花园", now=now)
            for role in Role:
                user = create_user(
                    session=session, name=f"st-{role}", role=role, site_ids=[SITE], now=now
                )
                tokens[role] = issue_token(
                    session=session,
                    user=user,
                    pepper=settings_.token_pepper.get_secret_value(),
                    now=now,
                )
        yield tokens, create_app(settings_, engine=engine)


def _labels() -> list[str]:
    """Every operation of the document (it does not depend on the database)."""
    app = create_app(Settings(), engine=make_engine("sqlite://"))
    return sorted(
        f"{m.upper()} {path}" for path, ops in app.openapi()["paths"].items() for m in ops
    )


@pytest.fixture(scope="module")
def api_schema(tokens_and_app: tuple[dict[Role, str], FastAPI]) -> schemathesis.BaseSchema:
    """The app's OpenAPI document, calling the app on PostgreSQL."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", tokens_and_app[1])
    # The token is the test's: a request without it is a 401, which the test does not send.
    schema.config.generation.update(with_security_parameters=False)
    return schema


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", _labels())
def test_the_api_keeps_its_document(
    api_schema: schemathesis.BaseSchema,
    tokens_and_app: tuple[dict[Role, str], FastAPI],
    label: str,
    mode: GenerationMode,
) -> None:
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]
    takes_input = operation.path_parameters or operation.query or operation.body
    if mode == GenerationMode.NEGATIVE and not takes_input:
        pytest.skip("nothing to send wrong: the operation takes no parameters and no body")
    headers = [{"Authorization": f"Bearer {token}"} for token in tokens_and_app[0].values()]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        for header in headers:
            case.call_and_validate(headers=header, checks=CHECKS)

    try:
        check()
    except Unsatisfiable:
        if mode != GenerationMode.NEGATIVE:
            raise
        pytest.skip("every value the document allows is valid: nothing to send wrong")
