"""schemathesis over the OpenAPI document: every operation, with a secretary's token and with a
deputy's, on SQLite and on the real PostgreSQL server.

What it insists on, for schema-valid and schema-violating input alike: no 5xx; every status,
content type, header and body the document promises (status_code, content_type,
response_headers and response_schema conformance); input the document calls invalid is refused
(negative_data_rejection); a method a path does not have answers 405 with its Allow header.

One check of schemathesis is left out, and why: positive_data_acceptance wants every
schema-valid request accepted, but the API rightly refuses valid-looking input that clashes with
the state of the sitting (a second session of the same number, an order that does not list the
agenda) or with another field (a rule's fraction above 1, an invited speaker's position without a
name): rules a JSON schema cannot say. What a schema can say (lengths, enums, patterns) the
document says, and tests/web/test_openapi.py checks it against the routes.

The examples are derandomised so that CI is repeatable; VOTING_FUZZ_EXAMPLES raises their number
for a longer hunt by hand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from fuzz_target import Target, copied_target, fuzz_target, sqlite_template
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from voting.web.openapi import openapi_document

EXAMPLES = int(os.environ.get("VOTING_FUZZ_EXAMPLES", "8"))


class CurrentApp:
    """The WSGI application schemathesis sends to: the module's current target (schemathesis
    binds its schema, and the checks that send requests of their own, to one application)."""

    app: Flask | None = None

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        assert self.app is not None, "no target is set up"
        return self.app(environ, start_response)


CURRENT = CurrentApp()
schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = CURRENT
without_coverage = schemathesis.openapi.from_dict(openapi_document())
without_coverage.app = CURRENT
without_coverage.config.phases.coverage.enabled = False


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    return sqlite_template(tmp_path_factory.mktemp("fuzz-template"))


@pytest.fixture(scope="module")
def shared_postgres(tmp_path_factory) -> Iterator[Target]:  # type: ignore[no-untyped-def]
    with fuzz_target("postgres", tmp_path_factory.mktemp("fuzz-postgres")) as built:
        yield built


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request, tmp_path) -> Iterator[Target]:  # type: ignore[no-untyped-def]
    """On SQLite each operation starts from the same council (a copy); on PostgreSQL one council
    takes every operation in turn (building one costs more there), so what one operation
    changed (a closed sitting) is what the next one meets."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            built = stack.enter_context(
                copied_target(request.getfixturevalue("template"), tmp_path)
            )
        else:
            built = request.getfixturevalue("shared_postgres")
        CURRENT.app = built.app
        yield built
        CURRENT.app = None


#: The deputy whose token the fuzzer uses: not 1, the id the fuzzer tries most (it may make
#: deputy 1 inactive, whose token then stops working).
DEPUTY = 7
#: Operations that answer 401 to a wrong password: any other 401 means the test's token died.
SIGN_IN = {"/login", "/login/card"}
#: Operations that may revoke the token they are sent with (or another the test holds).
REVOKING = {("POST", "/logout"), ("DELETE", "/tokens/{token_id}")}


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 8,
    suppress_health_check=list(HealthCheck),
)


def call_as(case, target: Target, role: str, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
    if (case.method.upper(), case.path) in REVOKING:
        target.tokens.forget()
    elif (
        case.path not in SIGN_IN
        and response.request.headers.get("Authorization")
        == (
            headers["Authorization"]  # (a case that tests a missing or wrong one sends its own)
        )
    ):  # else every later example would test only the 401
        assert response.status_code != 401, f"{role}'s token stopped working"


@schema.parametrize()
@SETTINGS
def test_every_operation_answers_as_documented_to_the_secretary(case, target: Target) -> None:  # type: ignore[no-untyped-def]
    call_as(case, target, "secretary", target.tokens.secretary)


@without_coverage.parametrize()
@SETTINGS
def test_every_operation_answers_as_documented_to_a_deputy(case, target: Target) -> None:  # type: ignore[no-untyped-def]
    """The same, with a deputy's token: random examples only, not the secretary's hundreds of
    boundary cases per operation (most operations stop at the role check for a deputy, and
    those a deputy may use read their input with the same parser the secretary's cases test)."""
    call_as(case, target, "deputy", target.tokens.deputy(DEPUTY))
