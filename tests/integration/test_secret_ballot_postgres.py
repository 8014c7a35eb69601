"""Secret ballot, PostgreSQL's own traces once it is closed: the purge removes what is left of the
sealed ballots even past a snapshot taken before the close; the write-ahead log holds one sealed
ballot per cast, all the same size, which nothing kept can open; every table is logged, so a crash
of the database server loses nothing (the readers: forensics.py; the ballot while it is open:
test_secret_ballot_open.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from forensics import (
    Scene,
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
def test_postgres_purges_the_sealed_ballots_even_past_an_open_snapshot(tmp_path: Path) -> None:
    """A snapshot taken before the close keeps the sealed ballots the close deleted (each with its
    caster's transaction as xmin, as is that caster's participation row): a rewrite must keep
    them while the snapshot lives, and the purge must retry until they are gone."""
    with observed_secret_vote("postgres", tmp_path, while_closing=snapshot_held) as seen:
        schema = pg_extension(seen.rt.engine, "pageinspect")
        if schema is None:
            pytest.skip("the pageinspect extension cannot be created on this server")
        assert seen.held is not None and seen.held.history is not None
        # While the snapshot lived, the versions it can see were there (so the purge had to retry).
        assert min(seen.held.history) > 0, seen.held.history
        # hold_secret_vote waited for the purge after the snapshot had ended.
        left = heap_tuples(seen.rt.engine, schema, "sealed_ballot")
        assert (len(left), len(stale(left))) == (0, 0), left[:3]


@pytest.mark.postgres
def test_postgres_write_ahead_log_holds_sealed_ballots_of_one_size(postgres_scene: Scene) -> None:
    """From opening the vote to the end of its purge, the WAL holds each cast's transaction with
    its participation row and its sealed ballot (whoever reads the WAL pairs them: the control);
    every sealed ballot's record is the same size, whatever the choice, and its bytes open only
    with the key the owner forgot at the close."""
    scene = postgres_scene
    schema = pg_extension(scene.rt.engine, "pg_walinspect")
    if schema is None:
        pytest.skip("the pg_walinspect extension cannot be created on this server")
    assert scene.pg_wal is not None and scene.pg_files is not None
    sealed_file = scene.pg_files["sealed_ballot"]
    with scene.rt.engine.connect() as connection:
        records = connection.execute(
            text(
                # A record's full-page image (the first change of a page after a checkpoint: the
                # whole page, not this ballot) is left out of its length; the rest is compared.
                f"SELECT xid::text, record_type, record_length - fpi_length, block_ref "
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
    sealing = {
        xid: length
        for xid, kind, length, blocks in records
        if kind.startswith("INSERT") and sealed_file in wal_record_files(blocks)
    }
    assert len(cast_by) == 22 and set(cast_by) <= set(sealing)  # the control: each cast's
    by_choice = Counter((scene.choice_of[cast_by[xid]], sealing[xid]) for xid in cast_by)
    assert len({length for _choice, length in by_choice}) == 1, by_choice


@pytest.mark.postgres
def test_postgres_logs_every_table_so_a_database_crash_loses_no_ballot(postgres_url: str) -> None:
    """The sealed ballots need no hiding from the WAL: every table is logged (the unlogged
    counters that a crash of the database server emptied are gone)."""
    runtime = build_runtime(database_config(postgres_url))
    try:
        upgrade(runtime.engine)
        with runtime.engine.connect() as connection:
            persistence = dict(
                connection.execute(
                    text(
                        "SELECT relname, relpersistence FROM pg_class "
                        "WHERE relnamespace = current_schema()::regnamespace "
                        "AND relkind IN ('r', 'i')"
                    )
                ).all()
            )
    finally:
        runtime.stop()
    assert {"vote", "sealed_ballot", "secret_participation", "ballot"} <= set(persistence)
    assert "secret_tally" not in persistence
    assert {name for name, kind in persistence.items() if kind != "p"} == set()
