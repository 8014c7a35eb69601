"""first schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "council",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("edrpou", sa.String(length=10), nullable=False),
        sa.Column("katottg", sa.String(length=19), nullable=False),
        sa.Column("statutory_deputies", sa.Integer(), nullable=False),
        sa.Column("head_votes", sa.Boolean(), nullable=False),
        sa.Column("quorum_numerator", sa.Integer(), nullable=False),
        sa.Column("quorum_denominator", sa.Integer(), nullable=False),
        sa.Column("quorum_counts_head", sa.Boolean(), nullable=False),
        sa.Column("default_rule", sa.String(length=40), nullable=False),
        sa.Column("revote_limit", sa.Integer(), nullable=False),
        sa.Column("default_time_limit_seconds", sa.Integer(), nullable=False),
        sa.Column("allow_change_choice", sa.Boolean(), nullable=False),
        sa.Column("registration_required_to_vote", sa.Boolean(), nullable=False),
        sa.Column("show_running_split", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council")),
    )
    op.create_table(
        "journal_entry",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journal_entry")),
    )
    op.create_table(
        "journal_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_head")),
    )
    op.create_table(
        "body",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.CheckConstraint("kind IN ('plenary', 'committee')", name=op.f("ck_body_kind")),
        sa.ForeignKeyConstraint(
            ["council_id"], ["council.id"], name=op.f("fk_body_council_id_council")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_body")),
        sa.UniqueConstraint("council_id", "name", name=op.f("uq_body_council_id_name")),
    )
    op.create_table(
        "convocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["council_id"], ["council.id"], name=op.f("fk_convocation_council_id_council")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convocation")),
        sa.UniqueConstraint("council_id", "number", name=op.f("uq_convocation_council_id_number")),
    )
    op.create_table(
        "faction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"], ["council.id"], name=op.f("fk_faction_council_id_council")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faction")),
        sa.UniqueConstraint("council_id", "name", name=op.f("uq_faction_council_id_name")),
    )
    op.create_table(
        "council_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("convocation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["convocation_id"],
            ["convocation.id"],
            name=op.f("fk_council_session_convocation_id_convocation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_session")),
        sa.UniqueConstraint(
            "convocation_id", "number", name=op.f("uq_council_session_convocation_id_number")
        ),
    )
    op.create_table(
        "deputy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.Column("short_name", sa.String(length=120), nullable=False),
        sa.Column("faction_id", sa.Integer(), nullable=True),
        sa.Column("voting_identifier", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("card_uid", sa.String(length=64), nullable=True),
        sa.Column("seat_number", sa.Integer(), nullable=True),
        sa.Column("is_head", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"], ["council.id"], name=op.f("fk_deputy_council_id_council")
        ),
        sa.ForeignKeyConstraint(
            ["faction_id"], ["faction.id"], name=op.f("fk_deputy_faction_id_faction")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deputy")),
        sa.UniqueConstraint("council_id", "card_uid", name=op.f("uq_deputy_council_id_card_uid")),
        sa.UniqueConstraint(
            "council_id", "external_id", name=op.f("uq_deputy_council_id_external_id")
        ),
        sa.UniqueConstraint(
            "council_id", "voting_identifier", name=op.f("uq_deputy_council_id_voting_identifier")
        ),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "role IN ('secretary', 'chair', 'deputy')", name=op.f("ck_api_token_role")
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_api_token_deputy_id_deputy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "role IN ('secretary', 'chair', 'deputy')", name=op.f("ck_app_user_role")
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_app_user_deputy_id_deputy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "committee_member",
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_id"], ["body.id"], name=op.f("fk_committee_member_body_id_body")
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_committee_member_deputy_id_deputy")
        ),
        sa.PrimaryKeyConstraint("body_id", "deputy_id", name=op.f("pk_committee_member")),
    )
    op.create_table(
        "sitting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('planned', 'open', 'closed')", name=op.f("ck_sitting_state")),
        sa.ForeignKeyConstraint(["body_id"], ["body.id"], name=op.f("fk_sitting_body_id_body")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_session.id"],
            name=op.f("fk_sitting_session_id_council_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sitting")),
    )
    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("draft_number", sa.String(length=40), nullable=True),
        sa.Column("rapporteur", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["sitting_id"], ["sitting.id"], name=op.f("fk_agenda_item_sitting_id_sitting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item")),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_item_sitting_id"), ["sitting_id"], unique=False)

    op.create_table(
        "registration_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sitting_id"], ["sitting.id"], name=op.f("fk_registration_round_sitting_id_sitting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_round")),
        sa.UniqueConstraint(
            "sitting_id", "number", name=op.f("uq_registration_round_sitting_id_number")
        ),
    )
    op.create_table(
        "registration",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("left_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_registration_deputy_id_deputy")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["registration_round.id"],
            name=op.f("fk_registration_round_id_registration_round"),
        ),
        sa.PrimaryKeyConstraint("round_id", "deputy_id", name=op.f("pk_registration")),
    )
    op.create_table(
        "vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("rule_base", sa.String(length=20), nullable=False),
        sa.Column("rule_comparator", sa.String(length=20), nullable=False),
        sa.Column("rule_numerator", sa.Integer(), nullable=False),
        sa.Column("rule_denominator", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("allow_change", sa.Boolean(), nullable=False),
        sa.Column("quorum_override", sa.Boolean(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("previous_vote_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("total_composition", sa.Integer(), nullable=False),
        sa.Column("head_takes_part", sa.Boolean(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=True),
        sa.Column("count_for", sa.Integer(), nullable=True),
        sa.Column("count_against", sa.Integer(), nullable=True),
        sa.Column("count_abstain", sa.Integer(), nullable=True),
        sa.Column("count_not_voted", sa.Integer(), nullable=True),
        sa.Column("count_absent", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("annul_reason", sa.Text(), nullable=True),
        sa.Column("annulled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('roll_call', 'open', 'secret')", name=op.f("ck_vote_kind")),
        sa.CheckConstraint("state IN ('open', 'closed', 'annulled')", name=op.f("ck_vote_state")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["agenda_item.id"], name=op.f("fk_vote_item_id_agenda_item")
        ),
        sa.ForeignKeyConstraint(
            ["previous_vote_id"], ["vote.id"], name=op.f("fk_vote_previous_vote_id_vote")
        ),
        sa.ForeignKeyConstraint(
            ["sitting_id"], ["sitting.id"], name=op.f("fk_vote_sitting_id_sitting")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote")),
    )
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vote_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vote_sitting_id"), ["sitting_id"], unique=False)
        batch_op.create_index(
            "uq_vote_one_open_per_sitting",
            ["sitting_id"],
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )

    op.create_table(
        "ballot",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("cast_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('for', 'against', 'abstain', 'not_voted', 'absent')",
            name=op.f("ck_ballot_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_ballot_deputy_id_deputy")
        ),
        sa.ForeignKeyConstraint(["vote_id"], ["vote.id"], name=op.f("fk_ballot_vote_id_vote")),
        sa.PrimaryKeyConstraint("vote_id", "deputy_id", name=op.f("pk_ballot")),
    )
    op.create_table(
        "secret_participation",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputy.id"], name=op.f("fk_secret_participation_deputy_id_deputy")
        ),
        sa.ForeignKeyConstraint(
            ["vote_id"], ["vote.id"], name=op.f("fk_secret_participation_vote_id_vote")
        ),
        sa.PrimaryKeyConstraint("vote_id", "deputy_id", name=op.f("pk_secret_participation")),
        sqlite_with_rowid=False,
    )
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
    if op.get_bind().dialect.name == "postgresql":
        # Secret-ballot counters stay out of the write-ahead log, which would otherwise tie each
        # counter change to the casting transaction (see docs/secret-ballot.md).
        op.execute("ALTER TABLE secret_tally SET UNLOGGED")
        # No statistics either: an ANALYZE during a ballot would keep the counters of that moment.
        op.execute("ALTER TABLE secret_tally ALTER COLUMN count SET STATISTICS 0")
        op.execute("ALTER TABLE secret_tally SET (autovacuum_enabled = off)")


def downgrade() -> None:

    op.drop_table("secret_tally")
    op.drop_table("secret_participation")
    op.drop_table("ballot")
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_vote_one_open_per_sitting",
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_vote_sitting_id"))
        batch_op.drop_index(batch_op.f("ix_vote_item_id"))

    op.drop_table("vote")
    op.drop_table("registration")
    op.drop_table("registration_round")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_item_sitting_id"))

    op.drop_table("agenda_item")
    op.drop_table("sitting")
    op.drop_table("committee_member")
    op.drop_table("app_user")
    op.drop_table("api_token")
    op.drop_table("deputy")
    op.drop_table("council_session")
    op.drop_table("faction")
    op.drop_table("convocation")
    op.drop_table("body")
    op.drop_table("journal_head")
    op.drop_table("journal_entry")
    op.drop_table("council")
