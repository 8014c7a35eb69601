"""wrong PINs are counted per card and source address (a terminal), not per card: whoever knows
a card's UID can shut out only their own address

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pin_lock",
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_pin_lock_deputy_id_deputy")
        ),
        sa.PrimaryKeyConstraint("deputy_id", "source", name=op.f("pk_pin_lock")),
    )
    with op.batch_alter_table("deputy") as batch:
        batch.drop_column("pin_locked_until")
        batch.drop_column("pin_failures")


def downgrade() -> None:
    with op.batch_alter_table("deputy") as batch:
        batch.add_column(
            sa.Column("pin_failures", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("pin_locked_until", sa.DateTime(), nullable=True))
    op.drop_table("pin_lock")
