"""Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from voting.adapters.db import make_engine
from voting.adapters.orm import Base
from voting.adapters.schema import current_revision, head_revision, is_up_to_date, upgrade
from voting.services import council, journal, queries
from voting.services.runtime import build_runtime
from voting.services.uow import SYSTEM


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database, configured as the server configures it."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_creates_every_table_and_records_the_head(engine: Engine) -> None:
    assert tables(engine) == set()
    assert current_revision(engine) is None and not is_up_to_date(engine)
    upgrade(engine)
    assert tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert head_revision() is not None
    assert current_revision(engine) == head_revision()
    assert is_up_to_date(engine)


def test_upgrading_again_changes_nothing_and_keeps_the_data(engine: Engine, db_url: str) -> None:
    upgrade(engine)
    runtime = build_runtime(db_url)
    try:
        council.create_council(runtime.uow(), SYSTEM, {
            "name": "Тестова міська рада", "edrpou": "12345678",
            "katottg": "UA12345678901234567", "statutory_deputies": 42})
        before = queries.council_info(runtime.reader()), journal.read_journal(runtime.reader())
        upgrade(engine)
        assert is_up_to_date(engine)
        assert tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
        assert (queries.council_info(runtime.reader()), journal.read_journal(runtime.reader())) == before
    finally:
        runtime.dispose()


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    # The guard against two open votes in a sitting is a partial unique index: it must exist.
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("vote")}
    assert indexes["uq_vote_one_open_per_sitting"]["unique"]
