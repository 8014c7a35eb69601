"""The cast path's one SQL statement says what the domain's presence rule says.

A batch of casts reads, in one statement (voting/adapters/casting_sql.py), which of its deputies
take part in the vote's body (with the head rule of art. 59), which of them are registered in the
sitting's newest round, and which have voted already. The rule itself is written once, in
voting/domain/presence.py. Here hypothesis builds random councils straight into the database
(deputies active or not, a head or not, committee members, the head voting or not, a plenary or a
committee sitting, several registration rounds with deputies who left, ballots of a roll-call,
open or secret vote, and batches with ids nobody has), asks the statement, and asks the domain
function the same question from the same facts: the answers must be equal, on SQLite and on
PostgreSQL. Each example is written in a transaction that is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from voting.adapters import casting_sql, orm
from voting.bootstrap import Runtime
from voting.domain.presence import BodyKind, Member, Roster, standing

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
UNKNOWN_ID = 10_000


@dataclass(frozen=True)
class Person:
    id: int
    active: bool
    is_head: bool
    in_committee: bool


@dataclass(frozen=True)
class Scene:
    people: tuple[Person, ...]
    head_votes: bool
    body: BodyKind
    rounds: tuple[tuple[tuple[int, bool], ...], ...]  # per round: (deputy id, left the hall)
    kind: str  # the vote's kind
    voters: frozenset[int]
    batch: frozenset[int]


@st.composite
def scenes(draw: st.DrawFn) -> Scene:
    count = draw(st.integers(min_value=0, max_value=8))
    heads = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    active = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    # The services keep at most one active head (a second one is refused).
    seen_head = False
    people = []
    for n in range(count):
        is_head = heads[n] and not (active[n] and seen_head)
        seen_head = seen_head or (is_head and active[n])
        people.append(Person(n + 1, active[n], is_head, draw(st.booleans())))
    ids = [p.id for p in people]
    anyone = st.sampled_from(ids) if ids else st.nothing()
    rounds = draw(
        st.lists(
            st.lists(st.tuples(anyone, st.booleans()), max_size=count, unique_by=lambda r: r[0]),
            max_size=3,
        )
    )
    return Scene(
        people=tuple(people),
        head_votes=draw(st.booleans()),
        body=draw(st.sampled_from(BodyKind)),
        rounds=tuple(tuple(r) for r in rounds),
        kind=draw(st.sampled_from(["roll_call", "open", "secret"])),
        voters=frozenset(draw(st.lists(anyone, max_size=count, unique=True))),
        batch=frozenset(draw(st.lists(st.one_of(anyone, st.just(UNKNOWN_ID)), max_size=count + 1))),
    )


def write(uow_session, scene: Scene) -> int:  # type: ignore[no-untyped-def]
    """The scene's rows; returns the vote's id."""
    run = uow_session.execute
    run(
        insert(orm.Council.__table__).values(
            id=1,
            name="Рада",
            edrpou="12345678",
            katottg="UA12345678901234567",
            statutory_deputies=12,
            head_votes=scene.head_votes,
        )
    )
    run(insert(orm.Body.__table__).values(id=1, council_id=1, kind="plenary", name="Пленарне"))
    run(insert(orm.Body.__table__).values(id=2, council_id=1, kind="committee", name="Комісія"))
    for p in scene.people:
        run(
            insert(orm.Deputy.__table__).values(
                id=p.id,
                council_id=1,
                full_name=f"Депутат {p.id}",
                short_name=f"Д. {p.id}",
                is_head=p.is_head,
                active=p.active,
            )
        )
        if p.in_committee:
            run(insert(orm.CommitteeMember.__table__).values(body_id=2, deputy_id=p.id))
    body_id = 1 if scene.body is BodyKind.PLENARY else 2
    run(
        insert(orm.Sitting.__table__).values(
            id=1, body_id=body_id, title="Засідання", date=date(2026, 12, 1), state="open"
        )
    )
    for number, registrations in enumerate(scene.rounds, start=1):
        run(
            insert(orm.RegistrationRound.__table__).values(
                id=number, sitting_id=1, number=number, opened_at=NOW
            )
        )
        for deputy_id, left in registrations:
            run(
                insert(orm.Registration.__table__).values(
                    round_id=number,
                    deputy_id=deputy_id,
                    registered_at=NOW,
                    left_at=NOW if left else None,
                )
            )
    run(
        insert(orm.Vote.__table__).values(
            id=1,
            sitting_id=1,
            title="Питання",
            stage="as_a_whole",
            kind=scene.kind,
            rule_base="total",
            rule_comparator="more_than",
            rule_numerator=1,
            rule_denominator=2,
            state="open",
            opened_at=NOW,
            total_composition=12,
        )
    )
    for deputy_id in sorted(scene.voters):
        if scene.kind == "secret":
            run(insert(orm.SecretParticipation.__table__).values(vote_id=1, deputy_id=deputy_id))
        else:
            run(
                insert(orm.Ballot.__table__).values(
                    vote_id=1, deputy_id=deputy_id, outcome="for", cast_at=NOW
                )
            )
    return 1


def by_the_rule(scene: Scene):  # type: ignore[no-untyped-def]
    """The domain's answer, from the same facts."""
    in_body = [
        p for p in scene.people if p.active and (scene.body is BodyKind.PLENARY or p.in_committee)
    ]
    roster = Roster(
        scene.body, tuple(Member(p.id, p.is_head) for p in in_body), 12, scene.head_votes
    )
    newest = scene.rounds[-1] if scene.rounds else ()
    registered = {deputy_id for deputy_id, left in newest if not left}
    return standing(roster, registered, scene.voters, scene.batch)


@settings(
    max_examples=150,
    deadline=None,
    # Every example writes in its own transaction and rolls it back: nothing is shared.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(scene=scenes())
def test_the_statement_agrees_with_the_domain(runtime: Runtime, scene: Scene) -> None:
    with runtime.uow() as uow:
        vote_id = write(uow.session, scene)
        found = casting_sql.lock_for_casting(uow.session, vote_id, scene.batch)
        assert found is not None
        vote, read = found
        assert vote.id == vote_id
        assert read == by_the_rule(scene), scene
