"""the floor: speaker lists, requests for the floor, the archive of speeches, microphones, and
when a sitting's broadcast started

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sitting", sa.Column("broadcast_started_at", sa.DateTime(), nullable=True))
    op.create_table(
        "speaker_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("faction_extra_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["agenda_item.id"], name="fk_speaker_list_item_id_agenda_item"
        ),
        sa.ForeignKeyConstraint(
            ["sitting_id"], ["sitting.id"], name="fk_speaker_list_sitting_id_sitting"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_speaker_list"),
    )
    op.create_index("ix_speaker_list_sitting_id", "speaker_list", ["sitting_id"])
    op.create_table(
        "speech_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=True),
        sa.Column("invited_name", sa.String(length=300), nullable=True),
        sa.Column("invited_position", sa.String(length=300), nullable=True),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("hand_position", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('waiting', 'granted', 'withdrawn', 'removed')",
            name="ck_speech_request_state",
        ),
        sa.CheckConstraint(
            "(deputy_id IS NULL) <> (invited_name IS NULL)",
            name="ck_speech_request_deputy_or_invited",
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name="fk_speech_request_deputy_id_deputy"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["speaker_list.id"], name="fk_speech_request_list_id_speaker_list"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_speech_request"),
    )
    op.create_index("ix_speech_request_list_id", "speech_request", ["list_id"])
    op.create_table(
        "speech",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("deputy_id", sa.Integer(), nullable=True),
        sa.Column("speaker_name", sa.String(length=300), nullable=False),
        sa.Column("speaker_position", sa.String(length=300), nullable=True),
        sa.Column("faction", sa.String(length=300), nullable=True),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("microphone", sa.String(length=40), nullable=False),
        sa.Column("allotted_seconds", sa.Float(), nullable=False),
        sa.Column("used_seconds", sa.Float(), nullable=False),
        sa.Column("running_since", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("pauses", sa.Text(), nullable=False),
        sa.Column("time_up_at", sa.DateTime(), nullable=True),
        sa.Column("ended_by", sa.String(length=20), nullable=True),
        sa.Column("recording_file", sa.String(length=500), nullable=True),
        sa.Column("recording_error", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('running', 'paused', 'ended')", name="ck_speech_state"),
        sa.ForeignKeyConstraint(["deputy_id"], ["deputy.id"], name="fk_speech_deputy_id_deputy"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["agenda_item.id"], name="fk_speech_item_id_agenda_item"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["speaker_list.id"], name="fk_speech_list_id_speaker_list"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["speech_request.id"], name="fk_speech_request_id_speech_request"
        ),
        sa.ForeignKeyConstraint(
            ["sitting_id"], ["sitting.id"], name="fk_speech_sitting_id_sitting"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_speech"),
    )
    op.create_index("ix_speech_sitting_id", "speech", ["sitting_id"])
    op.create_index("ix_speech_item_id", "speech", ["item_id"])
    op.create_index("ix_speech_deputy_id", "speech", ["deputy_id"])
    op.create_index(
        "uq_speech_one_live_per_sitting",
        "speech",
        ["sitting_id"],
        unique=True,
        sqlite_where=sa.text("state <> 'ended'"),
        postgresql_where=sa.text("state <> 'ended'"),
    )
    op.create_table(
        "microphone",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("is_on", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("held_by_chair", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_microphone"),
    )


def downgrade() -> None:
    op.drop_table("microphone")
    op.drop_index("uq_speech_one_live_per_sitting", table_name="speech")
    op.drop_table("speech")
    op.drop_table("speech_request")
    op.drop_table("speaker_list")
    with op.batch_alter_table("sitting") as batch:
        batch.drop_column("broadcast_started_at")
