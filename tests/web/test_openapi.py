"""The OpenAPI document describes exactly the API that exists: every route, its path parameters,
and which operations need a token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from halls import SECRETARY

from voting.services import floor
from voting.services.commands import GrantFloor, RequestFloor
from voting.web import create_app, runtime_of

PREFIX = "/api/v1"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def bare_app(sqlite_url: str) -> Iterator[Flask]:
    """The application with an empty database: enough for what needs no data."""
    application = create_app(overrides={"database": {"url": sqlite_url}})
    yield application
    runtime_of(application).stop()


def fetch_document(application: Flask) -> dict[str, Any]:
    response = application.test_client().get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


@pytest.fixture
def static_document(bare_app: Flask) -> dict[str, Any]:
    return fetch_document(bare_app)


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    return fetch_document(app)


def real_routes(app) -> dict[tuple[str, str], str]:  # type: ignore[no-untyped-def]
    """(method, OpenAPI-style path) -> endpoint, for every route under /api/v1."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len(PREFIX) :])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes[(method.lower(), path)] = rule.endpoint
    return routes


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): op
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3(static_document):
    document = static_document
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    try:
        from openapi_spec_validator import validate
    except ImportError:  # the structural checks below still run
        validate = None
    if validate is not None:
        validate(document)

    schemas = document["components"]["schemas"]
    ids = [op["operationId"] for op in operations(document).values()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    refs = re.findall(r"'\$ref': '#/components/schemas/([A-Za-z]+)'", repr(document))
    assert refs and set(refs) <= set(schemas), set(refs) - set(schemas)
    for (method, path), op in operations(document).items():
        assert op["summary"] and op["responses"], (method, path)
        assert any(code.startswith("2") for code in op["responses"]), (method, path)
        for scheme in op.get("security", []):
            assert set(scheme) <= set(document["components"]["securitySchemes"])


def test_documented_operations_are_exactly_the_real_routes(bare_app, static_document):
    documented = set(operations(static_document))
    real = set(real_routes(bare_app))
    assert documented - real == set(), "documented but not served"
    assert real - documented == set(), "served but not documented"


def test_every_path_parameter_is_declared(static_document):
    for (method, path), op in operations(static_document).items():
        in_path = set(re.findall(r"{([a-z_]+)}", path))
        declared = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "path"}
        assert set(declared) == in_path, (method, path)
        assert all(p["required"] is True for p in declared.values()), (method, path)


def test_token_requirement_matches_the_views(app, client, document):
    """An operation says it needs a token exactly when its view is wrapped with require_actor,
    which a call without a token shows: 401 before anything else is looked at."""
    routes = real_routes(app)
    for (method, path), op in operations(document).items():
        # [{}, {"bearer": []}] means the token is optional (it widens what staff see).
        needs_token = bool(op.get("security")) and {} not in op["security"]
        view = app.view_functions[routes[(method, path)]]
        assert hasattr(view, "__wrapped__") == needs_token, (method, path)
        url = PREFIX + re.sub(r"{[a-z_]+}", "1", path)
        response = client.open(url, method=method.upper(), json={} if method != "get" else None)
        if needs_token:
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.get_json()["error"]["code"] == "unauthenticated"
        else:
            assert response.status_code != 401, (method, path)
            # A public operation with a body (signing in) names the missing fields of {}.
            expected = (200, 404, 422) if "requestBody" in op else (200, 404)
            assert response.status_code in expected, (method, path, response.status_code)


def request_schemas(hall, document):  # type: ignore[no-untyped-def]
    """(method, path, url with real ids, request schema) for each operation with a body."""
    closed = hall.open_vote(title="Процедурне", override_quorum=True)
    hall.close(closed)
    speech = floor.grant_floor(
        hall.rt.uow(),
        SECRETARY,
        GrantFloor.parse(
            {
                "request_id": floor.request_floor(
                    hall.rt.uow(),
                    SECRETARY,
                    RequestFloor.parse({"invited_name": "Гість"}, sitting_id=hall.sitting),
                    hall.rt.floor_rules,
                )["request_id"]
            },
            sitting_id=hall.sitting,
        ),
        hall.rt.floor_rules,
    )
    ids = {
        "sitting_id": hall.sitting,
        "item_id": hall.items[0],
        "deputy_id": hall.deputies[0],
        "vote_id": closed,
        "speech_id": speech,
        "name": "tribune",
    }
    schemas = document["components"]["schemas"]
    out = []
    for (method, path), op in operations(document).items():
        if "requestBody" in op:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            url = re.sub(r"{([a-z_]+)}", lambda m: str(ids[m.group(1)]), path)
            out.append((method, path, url, schemas[ref.rsplit("/", 1)[-1]]))
    assert len(out) >= 20
    return out


def test_undocumented_request_fields_are_refused_by_name(hall, document, secretary, deputy):
    """additionalProperties: false is true to life (asked by someone whose role may send the
    request: the role is checked before the body is read)."""
    accepted = []
    for method, path, url, schema in request_schemas(hall, document):
        assert schema["additionalProperties"] is False, path
        assert set(schema.get("required", [])) <= set(schema["properties"]), path
        sender = deputy(hall.deputies[0]) if path.endswith("/choices") else secretary
        stray = sender.call(method.upper(), url, {"zzz_stray": 1})
        if stray.status_code != 422 or "zzz_stray" not in stray.get_json()["error"]["message"]:
            accepted.append((method, path, stray.status_code, stray.get_json()))
    assert accepted == []


def test_documented_request_fields_are_accepted(hall, document, secretary, deputy):
    """No documented field is refused as unknown, and a PATCH requires no field."""
    wrong = []
    for method, path, url, schema in request_schemas(hall, document):
        if method == "patch" and schema.get("required"):
            wrong.append((method, path, "requires", schema["required"]))
        sender = deputy(hall.deputies[0]) if path.endswith("/choices") else secretary
        response = sender.call(method.upper(), url, dict.fromkeys(schema["properties"]))
        assert response.status_code != 403, (method, path)
        message = (response.get_json().get("error") or {}).get("message", "")
        if "unknown" in message:
            wrong.append((method, path, "refuses", message))
    assert wrong == []
