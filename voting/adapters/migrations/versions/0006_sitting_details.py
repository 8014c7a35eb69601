"""the official record's details: where a sitting is held (and the council's usual place), who
chaired it and who kept its record; a deputy's public contacts and an agenda item's document link
for the open data

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("council") as batch:
        batch.add_column(sa.Column("place", sa.String(length=300), nullable=True))
    with op.batch_alter_table("sitting") as batch:
        batch.add_column(sa.Column("place", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("chair_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("secretary_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_sitting_chair_id_deputy", "deputy", ["chair_id"], ["id"])
        batch.create_foreign_key(
            "fk_sitting_secretary_id_deputy", "deputy", ["secretary_id"], ["id"]
        )
    with op.batch_alter_table("deputy") as batch:
        batch.add_column(sa.Column("email", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("telephone", sa.String(length=100), nullable=True))
    with op.batch_alter_table("agenda_item") as batch:
        batch.add_column(sa.Column("document_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agenda_item") as batch:
        batch.drop_column("document_url")
    with op.batch_alter_table("deputy") as batch:
        batch.drop_column("telephone")
        batch.drop_column("email")
    with op.batch_alter_table("sitting") as batch:
        batch.drop_constraint("fk_sitting_secretary_id_deputy", type_="foreignkey")
        batch.drop_constraint("fk_sitting_chair_id_deputy", type_="foreignkey")
        batch.drop_column("secretary_id")
        batch.drop_column("chair_id")
        batch.drop_column("place")
    with op.batch_alter_table("council") as batch:
        batch.drop_column("place")
