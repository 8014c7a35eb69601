"""the keyed journal: each entry's and the head's authentication code (HMAC with a key the
database does not hold), and the anchor published at each vote's and sitting's close (the
journal entry that recorded the close and its hash)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("journal_entry") as batch:
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    with op.batch_alter_table("journal_head") as batch:
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    with op.batch_alter_table("vote") as batch:
        batch.add_column(sa.Column("anchor", sa.String(length=100), nullable=True))
    with op.batch_alter_table("sitting") as batch:
        batch.add_column(sa.Column("anchor", sa.String(length=100), nullable=True))
    # The closes recorded before: each vote's and sitting's anchor is its closing entry's.
    connection = op.get_bind()
    closes = connection.execute(
        sa.text(
            "SELECT seq, kind, payload, hash FROM journal_entry "
            "WHERE kind IN ('vote_closed', 'sitting_closed') ORDER BY seq"
        )
    )
    for seq, kind, payload, digest in closes.all():
        table, key = ("vote", "vote_id") if kind == "vote_closed" else ("sitting", "sitting_id")
        connection.execute(
            sa.text(f"UPDATE {table} SET anchor = :anchor WHERE id = :id"),
            {"anchor": f"{seq}:{digest}", "id": json.loads(payload)[key]},
        )


def downgrade() -> None:
    with op.batch_alter_table("sitting") as batch:
        batch.drop_column("anchor")
    with op.batch_alter_table("vote") as batch:
        batch.drop_column("anchor")
    with op.batch_alter_table("journal_head") as batch:
        batch.drop_column("mac")
    with op.batch_alter_table("journal_entry") as batch:
        batch.drop_column("mac")
