"""The secret-ballot scenes (tests/integration/forensics.py): one secret vote held and observed
per database for the whole run, built the first time a test asks for it, and shared by the
test_secret_ballot_*.py files whose tests only read it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from forensics import Scene, observed_secret_vote


# One scene per database serves every test that only reads it.
@pytest.fixture(scope="session")
def sqlite_scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    with observed_secret_vote("sqlite", tmp_path_factory.mktemp("secret")) as seen:
        yield seen


@pytest.fixture(scope="session")
def postgres_scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    with observed_secret_vote("postgres", tmp_path_factory.mktemp("secret")) as seen:
        yield seen


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def scene(request: pytest.FixtureRequest) -> Scene:
    """The SQLite scene, then the PostgreSQL one: a per-test pick between the two above (a wider
    scope would build no fewer scenes, only make pytest regroup the tests of all files by it)."""
    return request.getfixturevalue(f"{request.param}_scene")
