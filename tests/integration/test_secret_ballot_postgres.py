"""Secret ballot, PostgreSQL's own traces: the counters' row versions carry only the closing
transaction; the purge removes their history even past a snapshot taken before the close; the
write-ahead log cannot tie a caster to a choice (the counters are UNLOGGED, kept out of it from
the migration on); the planner's statistics keep no counter value of an open ballot (the readers:
forensics.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from forensics import (
    CHOICES,
    PURGE_TIMEOUT,
    Scene,
    choice_in,
    choices_read_from_wal,
    council_on,
    heap_tuples,
    observed_secret_vote,
    pg_extension,
    snapshot_held,
    stale,
    wal_record_files,
)
from sqlalchemy import text

from voting.adapters.schema import upgrade
from voting.bootstrap import build_runtime
from voting.config import database_config


@pytest.mark.postgres
def test_postgres_counters_carry_only_the_closing_transaction(postgres_scene: Scene) -> None:
    scene = postgres_scene
    with scene.rt.engine.connect() as connection:
        closing = connection.execute(
            text("SELECT xmin::text FROM vote WHERE id = :v"), {"v": scene.vote}
        ).scalar_one()
        counters = connection.execute(
            text("SELECT xmin::text, xmax::text FROM secret_tally WHERE vote_id = :v"),
            {"v": scene.vote},
        ).all()
        casts = connection.execute(
            text("SELECT count(DISTINCT xmin::text) FROM secret_participation WHERE vote_id = :v"),
            {"v": scene.vote},
        ).scalar_one()
    # All three counters were last written by the transaction that closed the vote, not by the
    # casts (each of which wrote one counter: its xmin would name the last caster's choice).
    assert [tuple(row) for row in counters] == [(closing, "0")] * 3
    assert casts == 22  # the participation rows do carry the casts' transactions (see the doc)


@pytest.mark.postgres
def test_postgres_purges_the_counter_history_even_past_an_open_snapshot(tmp_path: Path) -> None:
    """A snapshot taken before the close keeps the counters' last versions before it (their xmin
    is a caster's transaction, as is that caster's participation row): VACUUM FULL must keep them
    while the snapshot lives, and the purge must retry until they are gone."""
    with observed_secret_vote("postgres", tmp_path, while_closing=snapshot_held) as seen:
        schema = pg_extension(seen.rt.engine, "pageinspect")
        if schema is None:
            pytest.skip("the pageinspect extension cannot be created on this server")
        assert seen.held is not None and seen.held.history is not None
        # While the snapshot lived, the versions it can see were there (so the purge had to retry).
        assert min(seen.held.history) > 0, seen.held.history
        with seen.rt.engine.connect() as connection:
            cast_by = {
                xid: deputy
                for xid, deputy in connection.execute(
                    text("SELECT xmin::text, deputy_id FROM secret_participation")
                )
            }
        # hold_secret_vote waited for the purge after the snapshot had ended.
        tally = heap_tuples(seen.rt.engine, schema, "secret_tally")
        left = stale(tally)
        named = sorted(
            (cast_by[t["t_xmin"]], choice_in(t["t_data"])) for t in tally if t["t_xmin"] in cast_by
        )
        truth = sorted((d, seen.choice_of[d]) for d, _ in named)
        assert (len(left), named) == (0, []), (
            f"{len(left)} dead counter versions left; (deputy, choice) read from them: {named}, "
            f"true choices of those deputies: {truth}"
        )


@pytest.mark.postgres
def test_postgres_write_ahead_log_cannot_tie_a_caster_to_a_choice(postgres_scene: Scene) -> None:
    """From opening the vote to the end of its purge, the WAL must not hold the counters: each
    cast's transaction is in it (its participation row, under the id that row's xmin names)."""
    scene = postgres_scene
    schema = pg_extension(scene.rt.engine, "pg_walinspect")
    if schema is None:
        pytest.skip("the pg_walinspect extension cannot be created on this server")
    assert scene.pg_wal is not None and scene.pg_files is not None
    tally_file = scene.pg_files["secret_tally"]
    with scene.rt.engine.connect() as connection:
        records = connection.execute(
            text(
                f"SELECT xid::text, record_type, description, block_ref "
                f"FROM {schema}.pg_get_wal_records_info(:start, :end) ORDER BY start_lsn"
            ),
            {"start": scene.pg_wal[0], "end": scene.pg_wal[1]},
        ).all()
        cast_by = {
            xid: deputy
            for xid, deputy in connection.execute(
                text("SELECT xmin::text, deputy_id FROM secret_participation WHERE vote_id = :v"),
                {"v": scene.vote},
            )
        }
        persistence = connection.execute(
            text("SELECT relpersistence FROM pg_class WHERE oid = 'secret_tally'::regclass")
        ).scalar_one()
    # The control: the window holds every cast's transaction, inserting its participation row.
    inserting = {
        xid
        for xid, kind, _description, blocks in records
        if kind.startswith("INSERT")
        and scene.pg_files["secret_participation"] in wal_record_files(blocks)
    }
    assert len(cast_by) == 22 and set(cast_by) <= inserting
    # No record touches the counters' file: not the casts, not the close, not the purge.
    touching = [
        (xid, kind)
        for xid, kind, _description, blocks in records
        if tally_file in wal_record_files(blocks)
    ]
    assert touching == []
    rebuilt = choices_read_from_wal(records, tally_file, cast_by)
    right = sorted(d for d, choice in rebuilt.items() if scene.choice_of.get(d) == choice)
    assert right == [], f"{len(right)} of 22 secret choices read back from the WAL: {rebuilt}"
    assert persistence == "u"  # the purge's rewrite kept the table out of the WAL


@pytest.mark.postgres
def test_postgres_statistics_keep_no_counter_value_of_an_open_ballot(tmp_path: Path) -> None:
    """Autovacuum analyzes a table once about 50 of its rows have changed: during some secret
    ballot it will analyze the counters. An intruder reading pg_stats afterwards must learn
    nothing: here the statistics were taken just before the last cast."""
    with council_on("postgres", tmp_path) as (hall, _url):
        voters = hall.deputies[:7]
        choice_of = dict(
            zip(voters, ["for"] * 3 + ["against"] * 2 + ["abstain", "for"], strict=True)
        )
        vote = hall.open_vote(title="Таємне", kind="secret")
        for deputy_id in voters[:-1]:
            hall.cast(vote, deputy_id, choice_of[deputy_id])
        with hall.rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE secret_tally"))  # as autovacuum would
        hall.cast(vote, voters[-1], choice_of[voters[-1]])
        result = hall.close(vote)
        totals = {choice: result[choice] for choice in CHOICES}
        assert hall.rt.purger.wait_idle(PURGE_TIMEOUT)
        with hall.rt.engine.connect() as connection:
            kept = connection.execute(
                text(
                    "SELECT most_common_vals::text, histogram_bounds::text FROM pg_stats "
                    "WHERE schemaname = current_schema() AND tablename = 'secret_tally' "
                    "AND attname = 'count'"
                )
            ).all()
        values = {
            int(value)
            for row in kept
            for array in row
            if array
            for value in array.strip("{}").split(",")
        }
        # The counter that stood one below its total while no counter stood at that total.
        moved = [c for c in CHOICES if totals[c] - 1 in values and totals[c] not in values]
        assert (values, moved) == (set(), []), (
            f"pg_stats keeps the counter values {sorted(values)}: the last caster (deputy "
            f"{voters[-1]}, named by the journal) chose {moved}; truly {choice_of[voters[-1]]}"
        )


@pytest.mark.postgres
def test_postgres_keeps_the_counters_out_of_the_write_ahead_log(postgres_url: str) -> None:
    """After the migration secret_tally (and its key) is UNLOGGED; every other table is not."""
    runtime = build_runtime(database_config(postgres_url))
    try:
        upgrade(runtime.engine)
        with runtime.engine.connect() as connection:
            schema, tally = connection.execute(
                text(
                    "SELECT relnamespace::regnamespace::text = current_schema(), relpersistence "
                    "FROM pg_class WHERE oid = 'secret_tally'::regclass"
                )
            ).one()
            persistence = {
                name: kind
                for name, kind in connection.execute(
                    text(
                        "SELECT relname, relpersistence FROM pg_class "
                        "WHERE relnamespace = current_schema()::regnamespace "
                        "AND relkind IN ('r', 'i')"
                    )
                )
            }
    finally:
        runtime.stop()
    assert (schema, tally) == (True, "u")
    assert {"vote", "journal_entry", "secret_participation", "ballot"} <= set(persistence)
    assert {name for name, kind in persistence.items() if kind != "p"} == {
        "secret_tally",
        "pk_secret_tally",
    }
    assert {persistence["secret_tally"], persistence["pk_secret_tally"]} == {"u"}
