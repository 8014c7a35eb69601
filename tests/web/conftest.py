"""Web fixtures: the Flask app on the `hall` runtime (SQLite and PostgreSQL), its test client,
bearer tokens, and people who call the JSON API: `secretary`, `chair`, `deputy(id)`, `public`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from halls import Tokens
from werkzeug.test import TestResponse

from voting.bootstrap import Runtime
from voting.services.journal import read_journal
from voting.web import create_app

API = "/api/v1"


@pytest.fixture
def app(hall, runtime: Runtime, db_url: str, tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    """The application over the hall's runtime, so both databases are covered; its instance
    folder (the record's files) is the test's own."""
    application = create_app(
        runtime=runtime,
        overrides={"database": {"url": db_url}, "server": {"instance_path": str(tmp_path)}},
    )
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(runtime: Runtime) -> Tokens:
    return Tokens(runtime)


class Person:
    """Someone calling the API with their own token (or none); paths are under /api/v1."""

    def __init__(self, client: FlaskClient, headers: Callable[[], dict[str, str]]) -> None:
        self.client = client
        self.headers = headers

    def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        url = path if path.startswith(API) else API + path
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        if json is not None:
            kwargs["json"] = json
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.call("POST", path, json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.call("PUT", path, json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.call("PATCH", path, json, **kwargs)

    def ok(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        """Call and insist on `status`; returns the JSON body."""
        response = self.call(method.upper(), path, json)
        assert response.status_code == status, (
            method,
            path,
            response.status_code,
            response.get_json(),
        )
        return response.get_json()


@pytest.fixture
def secretary(client: FlaskClient, tokens: Tokens) -> Person:
    return Person(client, lambda: tokens.secretary)


@pytest.fixture
def chair(client: FlaskClient, tokens: Tokens) -> Person:
    return Person(client, lambda: tokens.chair)


@pytest.fixture
def deputy(client: FlaskClient, tokens: Tokens) -> Callable[[int], Person]:
    """deputy(id) is that deputy with their own token."""
    return lambda deputy_id: Person(client, lambda: tokens.deputy(deputy_id))


@pytest.fixture
def public(client: FlaskClient) -> Person:
    """A visitor without a token."""
    return Person(client, dict)


@pytest.fixture
def journal_length(runtime: Runtime) -> Callable[[], int]:
    return lambda: len(read_journal(runtime.uow(), 0, limit=1_000_000))


@pytest.fixture
def present(hall, secretary: Person, deputy: Callable[[int], Person]) -> Callable[..., None]:
    """present(ids): the secretary opens registration and each deputy registers with their token."""

    def run(ids: list[int]) -> None:
        secretary.ok("post", f"/sittings/{hall.sitting}/registration/open")
        for deputy_id in ids:
            deputy(deputy_id).ok("post", f"/sittings/{hall.sitting}/register")

    return run


@pytest.fixture
def cast_all(deputy: Callable[[int], Person]) -> Callable[[int, dict[int, str]], None]:
    """cast_all(vote_id, {deputy_id: choice}): each deputy casts their own choice."""

    def run(vote_id: int, plan: dict[int, str]) -> None:
        for deputy_id, choice in plan.items():
            deputy(deputy_id).ok("post", f"/votes/{vote_id}/choices", {"choice": choice})

    return run
