"""a secret ballot's choices sealed to a key that only its owner's memory holds, counted at the
close: the counters that every cast changed in place are gone

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sealed_ballot",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(length=96), nullable=False),
        sa.ForeignKeyConstraint(
            ["vote_id"], ["vote.id"], name=op.f("fk_sealed_ballot_vote_id_vote")
        ),
        sa.PrimaryKeyConstraint("vote_id", "sealed", name=op.f("pk_sealed_ballot")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("vote") as batch:
        batch.add_column(sa.Column("tally_key", sa.LargeBinary(length=64), nullable=True))
        batch.add_column(sa.Column("tally_owner", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("close_requested_by", sa.Text(), nullable=True))
    # A secret ballot open now (the servers are stopped for the upgrade) goes with its counters:
    # it has no key, so nobody casts into it or counts it (SecretCountersLost), and the next
    # start flags it as interrupted (and journals it), to be annulled and held again.
    op.drop_table("secret_tally")


def downgrade() -> None:
    op.create_table(
        "secret_tally",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "choice IN ('for', 'against', 'abstain')", name=op.f("ck_secret_tally_choice")
        ),
        sa.CheckConstraint("count >= 0", name=op.f("ck_secret_tally_count")),
        sa.ForeignKeyConstraint(
            ["vote_id"], ["vote.id"], name=op.f("fk_secret_tally_vote_id_vote")
        ),
        sa.PrimaryKeyConstraint("vote_id", "choice", name=op.f("pk_secret_tally")),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":  # as 0001 made it
        op.execute("ALTER TABLE secret_tally SET UNLOGGED")
        op.execute("ALTER TABLE secret_tally ALTER COLUMN count SET STATISTICS 0")
        op.execute("ALTER TABLE secret_tally SET (autovacuum_enabled = off)")
    with op.batch_alter_table("vote") as batch:
        batch.drop_column("close_requested_by")
        batch.drop_column("tally_owner")
        batch.drop_column("tally_key")
    op.drop_table("sealed_ballot")
