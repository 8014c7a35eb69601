"""SQLAlchemy 2 typed models: the persistent form of the council, its sittings, votes and journal.

Secret ballots keep who took part (`secret_participation`) apart from what was chosen
(`sealed_ballot`, opened only by the ballot owner's key, and counted at the close): no row, column,
id or timestamp joins a deputy to a choice that anyone can read.
See docs/secret-ballot.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for the statements written without the ORM where speed counts
    (the cast path, the journal)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Council(Base):
    __tablename__ = "council"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    edrpou: Mapped[str] = mapped_column(String(10))
    katottg: Mapped[str] = mapped_column(String(19))
    statutory_deputies: Mapped[int] = mapped_column(Integer)
    head_votes: Mapped[bool] = mapped_column(Boolean, default=True)
    quorum_numerator: Mapped[int] = mapped_column(Integer, default=1)
    quorum_denominator: Mapped[int] = mapped_column(Integer, default=2)
    quorum_counts_head: Mapped[bool] = mapped_column(Boolean, default=False)
    default_rule: Mapped[str] = mapped_column(String(40), default="majority_of_total")
    revote_limit: Mapped[int] = mapped_column(Integer, default=2)
    default_time_limit_seconds: Mapped[int] = mapped_column(Integer, default=0)
    allow_change_choice: Mapped[bool] = mapped_column(Boolean, default=False)
    registration_required_to_vote: Mapped[bool] = mapped_column(Boolean, default=True)
    show_running_split: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Where the council's plenary sittings are usually held: a new sitting's place by default.
    place: Mapped[str | None] = mapped_column(String(300))


class Convocation(Base):
    __tablename__ = "convocation"
    __table_args__ = (UniqueConstraint("council_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"))
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(100))
    date_from: Mapped[date] = mapped_column(Date)
    date_until: Mapped[date | None] = mapped_column(Date)


class Body(Base):
    """The plenary or a standing committee: each has its own sittings, quorum and votes."""

    __tablename__ = "body"
    __table_args__ = (
        UniqueConstraint("council_id", "name"),
        CheckConstraint("kind IN ('plenary', 'committee')", name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))


class Faction(Base):
    __tablename__ = "faction"
    __table_args__ = (UniqueConstraint("council_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"))
    name: Mapped[str] = mapped_column(String(300))


class Deputy(Base):
    """A deputy, or the head (mayor) with is_head set; inactive means the mandate is vacant.

    `pin_hash` is the scrypt hash of the PIN that goes with the card at a terminal. Failed PIN
    attempts are counted here, in the database, so the lock after too many of them holds for
    every server thread and process and survives a restart (see services/auth.py).
    """

    __tablename__ = "deputy"
    __table_args__ = (
        UniqueConstraint("council_id", "voting_identifier"),
        UniqueConstraint("council_id", "card_uid"),
        UniqueConstraint("council_id", "external_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"))
    full_name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(120))
    faction_id: Mapped[int | None] = mapped_column(ForeignKey("faction.id"))
    voting_identifier: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(64))
    card_uid: Mapped[str | None] = mapped_column(String(64))
    seat_number: Mapped[int | None] = mapped_column(Integer)
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    pin_hash: Mapped[str | None] = mapped_column(String(300))
    #: The deputy's public contacts (annex 30's email and telephone), from the roster import.
    email: Mapped[str | None] = mapped_column(String(300))
    telephone: Mapped[str | None] = mapped_column(String(100))


class CommitteeMember(Base):
    __tablename__ = "committee_member"
    body_id: Mapped[int] = mapped_column(ForeignKey("body.id"), primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputy.id"), primary_key=True)


class Session(Base):
    """A numbered session (сесія) of the convocation."""

    __tablename__ = "council_session"
    __table_args__ = (UniqueConstraint("convocation_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    convocation_id: Mapped[int] = mapped_column(ForeignKey("convocation.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))


class Sitting(Base):
    __tablename__ = "sitting"
    __table_args__ = (CheckConstraint("state IN ('planned', 'open', 'closed')", name="state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("body.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("council_session.id"))
    title: Mapped[str] = mapped_column(String(300))
    date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="planned")
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The anchor published at the close: "SEQ:HASH" of the journal entry that recorded it.
    anchor: Mapped[str | None] = mapped_column(String(100))
    #: When the broadcast (the recording) of the sitting started: speeches give their offset in it.
    broadcast_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What the protocol states: where the sitting was held, who chaired it (the head, or the
    #: deputy who stood in) and who kept its record (the council secretary, or a deputy chosen).
    place: Mapped[str | None] = mapped_column(String(300))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("deputy.id"))
    secretary_id: Mapped[int | None] = mapped_column(ForeignKey("deputy.id"))


class AgendaItem(Base):
    __tablename__ = "agenda_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    draft_number: Mapped[str | None] = mapped_column(String(40))
    rapporteur: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(30), default="pending")
    #: Where the draft decision (later the decision) is published: open data's textUrl.
    document_url: Mapped[str | None] = mapped_column(String(500))


class RegistrationRound(Base):
    __tablename__ = "registration_round"
    __table_args__ = (UniqueConstraint("sitting_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id"))
    number: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set while the round waits for the secretary after the servers stopped with it open: when
    #: they stopped, as far as known (services/interruptions.py).
    interrupted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Registration(Base):
    """A deputy registered in a round; `left_at` is set while they have left the hall.

    The row stays when a deputy leaves, so attendance still counts the sitting they attended.
    """

    __tablename__ = "registration"
    round_id: Mapped[int] = mapped_column(ForeignKey("registration_round.id"), primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputy.id"), primary_key=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Vote(Base):
    __tablename__ = "vote"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'closed', 'annulled')", name="state"),
        CheckConstraint("kind IN ('roll_call', 'open', 'secret')", name="kind"),
        # One open vote per sitting at a time.
        Index(
            "uq_vote_one_open_per_sitting",
            "sitting_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    rule_base: Mapped[str] = mapped_column(String(20))
    rule_comparator: Mapped[str] = mapped_column(String(20))
    rule_numerator: Mapped[int] = mapped_column(Integer)
    rule_denominator: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=False)
    quorum_override: Mapped[bool] = mapped_column(Boolean, default=False)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    previous_vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by the chair
    total_composition: Mapped[int] = mapped_column(Integer)
    head_takes_part: Mapped[bool] = mapped_column(Boolean, default=False)
    registered: Mapped[int | None] = mapped_column(Integer)
    count_for: Mapped[int | None] = mapped_column(Integer)
    count_against: Mapped[int | None] = mapped_column(Integer)
    count_abstain: Mapped[int | None] = mapped_column(Integer)
    count_not_voted: Mapped[int | None] = mapped_column(Integer)
    count_absent: Mapped[int | None] = mapped_column(Integer)
    threshold: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(String(20))
    annul_reason: Mapped[str | None] = mapped_column(Text)
    annulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The anchor published at the close: "SEQ:HASH" of the journal entry that recorded it.
    anchor: Mapped[str | None] = mapped_column(String(100))
    #: Set while the vote waits for the secretary (continue, close or annul) after the servers
    #: stopped with it open: when they stopped, as far as known (services/interruptions.py).
    #: Nobody casts meanwhile, and the vote timer leaves it alone.
    interrupted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A secret ballot while open: the public key its choices are sealed to, and the server
    #: process whose memory holds the private key (`server_process.id`; null: a runtime that
    #: serves no one, as in scripts and tests), which alone can count it. Both cleared at the
    #: close (adapters/sealed_ballots.py).
    tally_key: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    tally_owner: Mapped[int | None] = mapped_column(Integer)
    #: A close asked of a secret ballot in a process that does not hold its key: who asked
    #: (JSON: role, label, deputy_id); the owner closes it for them (services/votes.py).
    close_requested_by: Mapped[str | None] = mapped_column(Text)


class Ballot(Base):
    """One deputy's line in a roll-call or open vote; the primary key forbids a double vote."""

    __tablename__ = "ballot"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('for', 'against', 'abstain', 'not_voted', 'absent')", name="outcome"
        ),
    )
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputy.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))
    cast_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SecretParticipation(Base):
    """Who took part in a secret ballot: no choice, no time, no surrogate id."""

    __tablename__ = "secret_participation"
    __table_args__ = {"sqlite_with_rowid": False}
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputy.id"), primary_key=True)


class SealedBallot(Base):
    """What was chosen in a secret ballot: one sealed ballot per cast, which only the private key
    of the ballot's owner opens (adapters/sealed_ballots.py), deleted at the close. Keyed by
    itself (random bytes): nothing orders them by casting, and no column names a deputy."""

    __tablename__ = "sealed_ballot"
    __table_args__ = {"sqlite_with_rowid": False}
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary(96), primary_key=True)


class SpeakerList(Base):
    """The speaker list of an agenda item (or of the sitting between items: `item_id` null)."""

    __tablename__ = "speaker_list"
    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Seconds the chair added to every faction's budget on this item (the overrun made good).
    faction_extra_seconds: Mapped[int] = mapped_column(Integer, default=0)


class SpeechRequest(Base):
    """A request for the floor: by a deputy (`deputy_id`) or, added by the chair or secretary,
    an invited speaker (`invited_name`, `invited_position`). `hand_position` is the place the
    chair gave it when ordering the list by hand."""

    __tablename__ = "speech_request"
    __table_args__ = (
        CheckConstraint("state IN ('waiting', 'granted', 'withdrawn', 'removed')", name="state"),
        CheckConstraint("(deputy_id IS NULL) <> (invited_name IS NULL)", name="deputy_or_invited"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("speaker_list.id"), index=True)
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputy.id"))
    invited_name: Mapped[str | None] = mapped_column(String(300))
    invited_position: Mapped[str | None] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hand_position: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Speech(Base):
    """A speech given (the archive): who spoke, as what, on which item, when and for how long.

    While it runs, `running_since` and `used_seconds` keep the clock (domain.floor.SpeechClock);
    `pauses` is a JSON list of [start, end] times. Names and the faction are kept as they were
    when the speech was given.
    """

    __tablename__ = "speech"
    __table_args__ = (
        CheckConstraint("state IN ('running', 'paused', 'ended')", name="state"),
        # One speech at a time per sitting.
        Index(
            "uq_speech_one_live_per_sitting",
            "sitting_id",
            unique=True,
            sqlite_where=text("state <> 'ended'"),
            postgresql_where=text("state <> 'ended'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("speaker_list.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("speech_request.id"))
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputy.id"), index=True)
    speaker_name: Mapped[str] = mapped_column(String(300))
    speaker_position: Mapped[str | None] = mapped_column(String(300))
    faction: Mapped[str | None] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20))
    microphone: Mapped[str] = mapped_column(String(40))
    allotted_seconds: Mapped[float] = mapped_column(Float)
    used_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pauses: Mapped[str] = mapped_column(Text, default="[]")
    time_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(20))
    recording_file: Mapped[str | None] = mapped_column(String(500))
    recording_error: Mapped[str | None] = mapped_column(Text)
    #: Set while the speech waits for the chair after the servers stopped with it live (its
    #: clock stopped then, as far as known; services/interruptions.py).
    interrupted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Microphone(Base):
    """A microphone the system has switched on, and why; a row is kept when it goes off."""

    __tablename__ = "microphone"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    is_on: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(String(20))
    #: Switched off by the chair's priority key while held: they come back on when it is let go.
    held_by_chair: Mapped[bool] = mapped_column(Boolean, default=False)


class ConsoleSeat(Base):
    """A seat with a console on the bus: which card sits in it, the anti-proxy-voting state and
    the console's health, as the console gateway last reported them (hardware/gateway.py)."""

    __tablename__ = "console_seat"
    seat_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    port: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[int] = mapped_column(Integer, default=0)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    faults: Mapped[int] = mapped_column(Integer, default=0)
    card_uid: Mapped[str | None] = mapped_column(String(64))
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputy.id"))
    card_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: One card (one deputy) in two seats: neither may vote until the secretary resolves it.
    alarm: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The card left the seat during this vote: the seat may not vote in it any more.
    blocked_vote_id: Mapped[int | None] = mapped_column(Integer)


class ServerProcess(Base):
    """A server process that serves the council (`voting serve`, `voting demo`): it says it is
    alive every few seconds, and that it stopped when it stops cleanly. The first process to start
    after all of them stopped knows what was left open, and since when (services/interruptions.py).
    """

    __tablename__ = "server_process"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The host name and process id, for whoever reads the table.
    name: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JournalEntry(Base):
    __tablename__ = "journal_entry"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: HMAC-SHA-256 of `hash` with the journal's key (domain/journal.py); empty in entries
    #: written before the journal had a key.
    mac: Mapped[str | None] = mapped_column(String(64))


class JournalHead(Base):
    """The last entry's number and hash; locking this row serializes appends."""

    __tablename__ = "journal_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64))  # of the head (domain/journal.py)


class PinLock(Base):
    """Wrong PINs for one card from one source address (a terminal): after PIN_ATTEMPTS the card
    is refused *at that address* until `locked_until`, and still works everywhere else (so
    whoever knows a card's UID can shut out only their own address)."""

    __tablename__ = "pin_lock"
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputy.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint("role IN ('secretary', 'chair', 'deputy')", name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputy.id"))


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored. Tokens issued at sign-in expire."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint("role IN ('secretary', 'chair', 'deputy')", name="role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("deputy.id"))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
