"""the seat consoles: which card sits in which seat, the anti-proxy-voting state, console health

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_seat",
        sa.Column("seat_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("port", sa.String(length=300), nullable=False),
        sa.Column("address", sa.Integer(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("faults", sa.Integer(), nullable=False),
        sa.Column("card_uid", sa.String(length=64), nullable=True),
        sa.Column("deputy_id", sa.Integer(), nullable=True),
        sa.Column("card_since", sa.DateTime(), nullable=True),
        sa.Column("alarm", sa.Boolean(), nullable=False),
        sa.Column("blocked_vote_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name="fk_console_seat_deputy_id_deputy"
        ),
        sa.PrimaryKeyConstraint("seat_number", name="pk_console_seat"),
    )


def downgrade() -> None:
    op.drop_table("console_seat")
