"""Secret ballot, SQLite's own traces: the write-ahead log that held the casts is emptied at the
close, and the participation rows lie in the file in deputy order, not in casting order (the
page reader: forensics.py)."""

from __future__ import annotations

from pathlib import Path

from forensics import Scene, sqlite_table_page


def test_sqlite_write_ahead_log_is_emptied_at_close(sqlite_scene: Scene) -> None:
    scene = sqlite_scene
    wal = Path(scene.sqlite_path() + "-wal")
    # During the vote the log held every cast's pages; the purge after the close truncates it.
    assert scene.sqlite_wal_before_close is not None and scene.sqlite_wal_before_close > 0
    assert not wal.exists() or wal.stat().st_size == 0


def test_sqlite_participation_lies_in_deputy_order_not_casting_order(sqlite_scene: Scene) -> None:
    scene = sqlite_scene
    page = sqlite_table_page(scene.sqlite_path(), "secret_participation")
    physical = [record[1] for _, record in page.cells if record[0] == scene.vote]
    assert sorted(physical) == sorted(scene.choice_of)
    assert physical != list(reversed(scene.order)) and physical != scene.order
    assert physical in (sorted(physical), sorted(physical, reverse=True))
