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
from voting.bootstrap import build_runtime
from voting.config import database_config
from voting.domain.actors import SYSTEM
from voting.services import council, journal, queries
from voting.services.commands import SignInWithCard


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
    runtime = build_runtime(database_config(db_url))
    try:
        council.create_council(
            runtime.uow(),
            SYSTEM,
            {
                "name": "Тестова міська рада",
                "edrpou": "12345678",
                "katottg": "UA12345678901234567",
                "statutory_deputies": 42,
            },
        )
        before = queries.council_info(runtime.reader()), journal.read_journal(runtime.reader())
        upgrade(engine)
        assert is_up_to_date(engine)
        assert tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
        assert (
            queries.council_info(runtime.reader()),
            journal.read_journal(runtime.reader()),
        ) == before
    finally:
        runtime.stop()


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    # The guard against two open votes in a sitting is a partial unique index: it must exist.
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("vote")}
    assert indexes["uq_vote_one_open_per_sitting"]["unique"]


def test_upgrading_from_the_first_schema_keeps_deputies_and_tokens(
    engine: Engine, db_url: str
) -> None:
    """0002 adds PINs and token expiry to a database in use: nobody has a PIN or a lock yet, and
    the tokens issued before keep working without an expiry."""
    from voting.services import auth

    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO council (id, name, edrpou, katottg, statutory_deputies, head_votes, "
            "quorum_numerator, quorum_denominator, quorum_counts_head, default_rule, revote_limit, "
            "default_time_limit_seconds, allow_change_choice, registration_required_to_vote, "
            "show_running_split) VALUES (1, 'Тестова міська рада', '12345678', "
            "'UA12345678901234567', 42, true, 1, 2, false, 'majority_of_total', 2, 0, false, "
            "true, false)"
        )
        connection.exec_driver_sql(
            "INSERT INTO deputy (council_id, full_name, short_name, card_uid, is_head, active) "
            "VALUES (1, 'Депутатенко Іван Петрович', 'Депутатенко І. П.', 'CARD0001', false, "
            "true)"
        )
        connection.exec_driver_sql(
            "INSERT INTO api_token (token_hash, role, label, created_at) VALUES "
            f"('{auth.token_digest('old-token')}', 'chair', 'chair', '2026-01-01 08:00:00')"
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision() == "0010"
    runtime = build_runtime(database_config(db_url))
    try:
        assert auth.deputies_with_pin(runtime.reader()) == set()
        assert auth.actor_for_token(runtime.reader(), "old-token").role == "chair"
        assert auth.list_tokens(runtime.reader(), SYSTEM)[0]["expires_at"] is None
        with pytest.raises(auth.WrongCredentials):
            auth.login_with_card(
                runtime.uow(), SignInWithCard.parse({"card_uid": "CARD0001", "pin": "1234"})
            )
        deputy_id = queries.deputies(runtime.reader())[0]["id"]
        auth.set_deputy_pin(runtime.uow(), SYSTEM, deputy_id, "1234")
        assert (
            auth.login_with_card(
                runtime.uow(), SignInWithCard.parse({"card_uid": "CARD0001", "pin": "1234"})
            ).deputy_id
            == deputy_id
        )
    finally:
        runtime.stop()
