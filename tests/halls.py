"""A council to test with, driven like people: a clock the test moves, and a `Hall` of 42
deputies and the mayor with an open plenary sitting (`build_hall`). Shared by the fixtures of
tests/conftest.py and by tests that build their own (import it by name: `from halls import
Hall`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from skipping import skip_or_fail
from sqlalchemy import create_engine, make_url, select, text

from voting.bootstrap import Runtime
from voting.domain.actors import SYSTEM, Actor
from voting.services import auth, casting, council, registration, sittings, votes
from voting.services.commands import (
    AddDeputy,
    AddItem,
    AnnulVote,
    CastChoice,
    CreateConvocation,
    CreateSession,
    CreateSitting,
    CreateToken,
    Leave,
    ManualResult,
    OpenRegistration,
    OpenVote,
    Register,
)

PG_ENV = "VOTING_TEST_DATABASE_URL"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def postgres_base_url() -> str:
    """The PostgreSQL URL for tests, or skip (fail in CI) with the reason."""
    url = os.environ.get(PG_ENV)
    if not url:
        skip_or_fail(f"{PG_ENV} is not set; PostgreSQL tests skipped")
    try:
        engine = create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure to connect means "unreachable"
        skip_or_fail(f"PostgreSQL at {url} is unreachable: {error.__class__.__name__}")
    return url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh schema in the test database, dropped afterwards."""
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a fresh database on the test server, dropped afterwards: what runs in it is
    alone there (no other test's transaction holds back its clean-up of old row versions)."""
    base = make_url(postgres_base_url())
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


SECRETARY = Actor("secretary", "secretary:test")
CHAIR = Actor("chair", "chair:test")
FACTIONS = ("Світанок", "Каштанова алея", "Громада-2030", "Зелений берег")


def deputy_actor(deputy_id: int) -> Actor:
    return Actor("deputy", f"deputy:{deputy_id}", deputy_id)


@dataclass
class Hall:
    """A council of 42 deputies and the mayor with one open plenary sitting, driven like people."""

    rt: Runtime
    clock: Clock
    deputies: list[int] = field(default_factory=list)
    head: int = 0
    sitting: int = 0
    items: list[int] = field(default_factory=list)

    @property
    def everyone(self) -> list[int]:
        return [*self.deputies, self.head]

    def open_registration(self, carry_over: bool = False) -> int:
        return registration.open_registration(
            self.rt.uow(),
            SECRETARY,
            OpenRegistration.parse({"carry_over": carry_over}, sitting_id=self.sitting),
        )

    def close_registration(self) -> dict[str, object]:
        return registration.close_registration(self.rt.uow(), SECRETARY, self.sitting)

    def register(self, *ids: int) -> dict[str, object]:
        result: dict[str, object] = {}
        for deputy_id in ids:
            result = registration.register(
                self.rt.uow(), deputy_actor(deputy_id), Register.parse({}, sitting_id=self.sitting)
            )
        return result

    def unregister(self, deputy_id: int) -> dict[str, object]:
        return registration.unregister(
            self.rt.uow(), deputy_actor(deputy_id), Leave.parse({}, sitting_id=self.sitting)
        )

    def open_vote(self, **spec: Any) -> int:
        return votes.open_vote(
            self.rt.uow(), SECRETARY, OpenVote.parse(spec, sitting_id=self.sitting)
        )

    def cast(self, vote_id: int, deputy_id: int, choice: str) -> dict[str, object]:
        return casting.cast_choice(
            self.rt.uow(),
            deputy_actor(deputy_id),
            CastChoice.parse({"choice": choice}, vote_id=vote_id),
        )

    def cast_many(self, vote_id: int, ids: list[int], choice: str) -> None:
        for deputy_id in ids:
            self.cast(vote_id, deputy_id, choice)

    def close(self, vote_id: int) -> dict[str, object]:
        return votes.close_vote(self.rt.uow(), SECRETARY, vote_id)

    def annul(self, vote_id: int, reason: str = "Збій пульта") -> None:
        votes.annul_vote(self.rt.uow(), CHAIR, AnnulVote.parse({"reason": reason}, vote_id=vote_id))

    def enter_manual(self, **spec: Any) -> int:
        """A counting commission's result (ManualResult's fields); its vote's id."""
        entered = votes.enter_manual_result(
            self.rt.uow(), SECRETARY, ManualResult.parse(spec, sitting_id=self.sitting)
        )
        vote_id = entered["vote_id"]
        assert isinstance(vote_id, int)
        return vote_id


def found_council(rt: Runtime, deputies: int) -> None:
    """The tests' council, as `voting init` founds it, of `deputies` deputies (the mayor
    besides)."""
    council.create_council(
        rt.uow(),
        SYSTEM,
        {
            "name": "Тестова міська рада",
            "edrpou": "12345678",
            "katottg": "UA12345678901234567",
            "statutory_deputies": deputies,
        },
    )


def build_hall(
    rt: Runtime, clock: Clock, statutory: int = 42, filled: int = 42, items: int = 3
) -> Hall:
    found_council(rt, statutory)
    hall = Hall(rt, clock)
    for n in range(1, filled + 1):
        hall.deputies.append(
            council.add_deputy(
                rt.uow(),
                SECRETARY,
                AddDeputy.parse(
                    {
                        "full_name": f"Депутатенко{n:02d} Іван Петрович",
                        "faction": FACTIONS[n % 4],
                        "seat_number": n,
                        "voting_identifier": f"dep-{n}",
                        "card_uid": f"CARD{n:04d}",
                    }
                ),
            )
        )
    hall.head = council.add_deputy(
        rt.uow(),
        SECRETARY,
        AddDeputy.parse(
            {"full_name": "Головенко Мер Мерович", "is_head": True, "voting_identifier": "head"}
        ),
    )
    convocation = sittings.create_convocation(
        rt.uow(),
        SECRETARY,
        CreateConvocation.parse(
            {"number": 8, "label": "VIII скликання", "date_from": "2020-12-01"}
        ),
    )
    session = sittings.create_session(
        rt.uow(), SECRETARY, CreateSession.parse({"convocation_id": convocation, "number": 17})
    )
    hall.sitting = sittings.create_sitting(
        rt.uow(), SECRETARY, CreateSitting.parse({"date": "2026-11-25", "session_id": session})
    )
    for n in range(1, items + 1):
        hall.items.append(
            sittings.add_item(
                rt.uow(),
                SECRETARY,
                AddItem.parse(
                    {
                        "title": f"Про питання {n}",
                        "draft_number": f"75{n}/2",
                        "rapporteur": "Доповідач",
                    },
                    sitting_id=hall.sitting,
                ),
            )
        )
    sittings.open_sitting(rt.uow(), SECRETARY, hall.sitting)
    return hall


class Tokens:
    """Bearer headers for each role, issued on first use and kept for the test."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._cache: dict[tuple[str, int | None], dict[str, str]] = {}

    def _headers(self, role: str, deputy_id: int | None = None) -> dict[str, str]:
        key = (role, deputy_id)
        if key not in self._cache:
            token = auth.create_token(
                self.runtime.uow(),
                SYSTEM,
                CreateToken.parse({"role": role, "deputy_id": deputy_id}),
            )
            self._cache[key] = {"Authorization": f"Bearer {token}"}
        return self._cache[key]

    @property
    def secretary(self) -> dict[str, str]:
        return self._headers("secretary")

    @property
    def chair(self) -> dict[str, str]:
        return self._headers("chair")

    def forget(self) -> None:
        """Issue new tokens from now on (the ones kept may have been revoked)."""
        self._cache.clear()

    def deputy(self, deputy_id: int) -> dict[str, str]:
        return self._headers("deputy", deputy_id)


def opened_counts(rt: Runtime, vote_id: int) -> dict[str, int]:
    """An open secret ballot's choices so far, opened with the key its runtime holds in memory
    (what only the ballot's owner can do, and does once, at the close)."""
    from voting.adapters import orm  # the tests' own look into the storage

    with rt.session_factory() as session:
        sealed = list(
            session.scalars(
                select(orm.SealedBallot.sealed).where(orm.SealedBallot.vote_id == vote_id)
            )
        )
    assert rt.journal_key is not None
    return dict(rt.ballot_keys.count(vote_id, sealed, rt.journal_key))
