"""A whole plenary sitting over HTTP against a live server: 42 deputies and the mayor (43 taking
part) register at once, then votes of every kind and every rule with known choices, a re-vote, an
annulment and a manual entry; then every result, the agenda, attendance and the journal."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from planning import plan_sitting

pytestmark = pytest.mark.e2e

OUTCOME_UK = {
    "for": "За",
    "against": "Проти",
    "abstain": "Утримався",
    "not_voted": "Не голосував",
    "absent": "Відсутній",
}


def plan(**groups: list[int]) -> dict[int, str]:
    """plan(for_=[...], against=[...], abstain=[...]) -> {deputy_id: choice}"""
    return {d: choice.rstrip("_") for choice, ids in groups.items() for d in ids}


def counted(published: dict[str, Any]) -> dict[str, Any]:
    """A published result without its anchor (the closing entry's SEQ:HASH, checked here)."""
    assert re.fullmatch(r"[0-9]+:[0-9a-f]{64}", published["anchor"]), published
    return {key: value for key, value in published.items() if key != "anchor"}


def result(
    registered: int,
    for_: int,
    against: int,
    abstain: int,
    not_voted: int,
    absent: int,
    threshold: int,
    adopted: bool,
) -> dict[str, Any]:
    assert for_ + against + abstain + not_voted + absent == 43  # the total composition
    return {
        "registered": registered,
        "for": for_,
        "against": against,
        "abstain": abstain,
        "not_voted": not_voted,
        "absent": absent,
        "threshold": threshold,
        "result": "adopted" if adopted else "not_adopted",
        "result_uk": "Прийнято" if adopted else "Не прийнято",
    }


def outcomes(choices: dict[int, str], registered: set[int], everyone: list[int]) -> dict[int, str]:
    """Every participant's line in a roll-call sheet."""
    return {d: choices.get(d, "not_voted" if d in registered else "absent") for d in everyone}


def test_a_whole_sitting_over_http(council_roster):
    hall = council_roster
    dep, head, everyone = hall.deputies, hall.head, hall.everyone
    secretary = hall.caller(hall.secretary_token)
    public = hall.caller()
    pool = ThreadPoolExecutor(max_workers=8)

    def each(action: Callable[[int], Any], ids: list[int]) -> list[Any]:
        return list(pool.map(action, ids))

    try:
        run_sitting(hall, secretary, public, each, dep, head, everyone)
    finally:
        pool.shutdown(wait=True)


def run_sitting(hall, secretary, public, each, dep, head, everyone):  # type: ignore[no-untyped-def]
    # --- tokens: the secretary issues the chair's and one per participant ---------------------
    chair = hall.caller(secretary.ok("post", "/tokens", {"role": "chair"}, status=201)["token"])
    person = {}
    for d in everyone:
        issued = secretary.ok("post", "/tokens", {"role": "deputy", "deputy_id": d}, status=201)
        person[d] = hall.caller(issued["token"])
    assert person[dep[0]].ok("get", "/me")["deputy_id"] == dep[0]

    # --- the sitting and its agenda ------------------------------------------------------------
    convocation = secretary.ok(
        "post",
        "/convocations",
        {"number": 8, "label": "VIII скликання", "date_from": "2020-12-01"},
        status=201,
    )["id"]
    session = secretary.ok(
        "post", "/sessions", {"convocation_id": convocation, "number": 17}, status=201
    )["id"]
    planned = secretary.ok(
        "post", "/sittings", {"date": "2026-11-25", "session_id": session}, status=201
    )
    assert planned["state"] == "planned"
    s = planned["id"]
    items = [
        secretary.ok(
            "post",
            f"/sittings/{s}/agenda",
            {"title": f"Про питання {n}", "draft_number": f"75{n}/2", "rapporteur": "Доповідач"},
            status=201,
        )["id"]
        for n in (1, 2, 3)
    ]
    assert chair.ok("post", f"/sittings/{s}/open")["state"] == "open"

    # --- registration: all 43 at once ----------------------------------------------------------
    chair.ok("post", f"/sittings/{s}/registration/open")
    answers = each(lambda d: person[d].ok("post", f"/sittings/{s}/register"), everyone)
    assert sorted(a["deputy_id"] for a in answers) == sorted(everyone)
    assert all(a["registered"] is True for a in answers)
    sitting = public.ok("get", f"/sittings/{s}")
    assert (sitting["registered"], sitting["total_composition"]) == (43, 43)
    assert (sitting["quorum_present"], sitting["quorum_required"], sitting["quorum"]) == (
        42,
        22,
        True,
    )
    assert secretary.ok("post", f"/sittings/{s}/registration/close")["registered"] == 43
    registered = set(everyone)

    def vote(opener: Any, spec: dict[str, Any], choices: dict[int, str]) -> int:
        vote_id = opener.ok("post", f"/sittings/{s}/votes", spec, status=201)["vote_id"]
        acks = each(
            lambda d: person[d].ok("post", f"/votes/{vote_id}/choices", {"choice": choices[d]}),
            list(choices),
        )
        assert all(a["recorded"] is True for a in acks)
        assert public.ok("get", f"/votes/{vote_id}")["votes_cast"] == len(choices)
        return vote_id

    expected: dict[int, dict[str, Any]] = {}
    sheets: dict[int, dict[int, str]] = {}

    # 1. Roll-call, majority of the total composition (43): 22 needed, 22 for.
    v1_choices = plan(for_=[*dep[:21], head], against=dep[21:31], abstain=dep[31:36])
    v1 = vote(
        secretary,
        {"item_id": items[0], "kind": "roll_call", "rule": "majority_of_total"},
        v1_choices,
    )
    expected[v1] = result(43, 22, 10, 5, 6, 0, 22, True)
    sheets[v1] = outcomes(v1_choices, registered, everyone)
    assert counted(secretary.ok("post", f"/votes/{v1}/close")["result"]) == expected[v1]

    # 2. Open vote, two thirds of the total: 29 needed, 28 for -> not adopted.
    v2_choices = plan(for_=dep[:28], against=dep[28:38], abstain=dep[38:40])
    v2 = vote(
        chair, {"item_id": items[1], "kind": "open", "rule": "two_thirds_of_total"}, v2_choices
    )
    expected[v2] = result(43, 28, 10, 2, 3, 0, 29, False)
    assert counted(chair.ok("post", f"/votes/{v2}/close")["result"]) == expected[v2]

    # 3. Its re-vote: 29 for -> adopted.
    v3 = secretary.ok("post", f"/votes/{v2}/revote", status=201)
    assert (v3["attempt"], v3["previous_vote_id"], v3["kind"]) == (2, v2, "open")
    assert v3["rule"]["name"] == "two_thirds_of_total"
    v3 = v3["vote_id"]
    v3_choices = plan(for_=[*dep[:28], head], against=dep[28:42])
    each(
        lambda d: person[d].ok("post", f"/votes/{v3}/choices", {"choice": v3_choices[d]}),
        list(v3_choices),
    )
    expected[v3] = result(43, 29, 14, 0, 0, 0, 29, True)
    assert counted(secretary.ok("post", f"/votes/{v3}/close")["result"]) == expected[v3]

    # Three deputies leave the hall: 40 registered, the total composition stays 43.
    leaving = dep[39:42]
    each(lambda d: person[d].ok("post", f"/sittings/{s}/unregister"), leaving)
    registered -= set(leaving)
    assert public.ok("get", f"/sittings/{s}")["registered"] == 40

    # 4. Secret ballot, majority of the registered (40): 21 needed (of the total it would be 22).
    v4_choices = plan(for_=dep[:21], against=dep[21:36], abstain=dep[36:38])
    v4 = vote(
        secretary,
        {"title": "Обрання секретаря ради", "kind": "secret", "rule": "majority_of_registered"},
        v4_choices,
    )
    expected[v4] = result(40, 21, 15, 2, 2, 3, 21, True)
    assert counted(secretary.ok("post", f"/votes/{v4}/close")["result"]) == expected[v4]

    # 5. Roll-call, majority of those voting (24): 13 needed, 13 for.
    v5_choices = plan(for_=dep[:13], against=dep[13:21], abstain=dep[21:24])
    v5 = vote(
        chair,
        {"title": "Про перерву", "kind": "roll_call", "rule": "majority_of_voting"},
        v5_choices,
    )
    expected[v5] = result(40, 13, 8, 3, 16, 3, 13, True)
    sheets[v5] = outcomes(v5_choices, registered, everyone)
    assert counted(chair.ok("post", f"/votes/{v5}/close")["result"]) == expected[v5]

    # 6. Open vote, a custom rule "at least 1/3 of the total": 15 needed; then annulled.
    v6_choices = plan(for_=dep[:15], against=dep[15:35])
    v6 = vote(
        secretary,
        {
            "title": "Про звернення до Кабінету Міністрів",
            "kind": "open",
            "rule": {"base": "total", "comparator": "at_least", "numerator": 1, "denominator": 3},
        },
        v6_choices,
    )
    closed6 = secretary.ok("post", f"/votes/{v6}/close")
    assert closed6["rule"]["name"] == "custom"
    assert closed6["rule"]["description"] == "не менше 1/3 від загального складу ради"
    expected[v6] = result(40, 15, 20, 0, 5, 3, 15, True)
    assert counted(closed6["result"]) == expected[v6]
    annulled = chair.ok("post", f"/votes/{v6}/annul", {"reason": "Порушено процедуру"})
    assert annulled["state"] == "annulled" and annulled["annul_reason"] == "Порушено процедуру"

    # 7. The counting commission's manual roll-call result on the third item.
    v7_choices = plan(for_=dep[:30], against=dep[30:35], abstain=[head])
    entered = secretary.ok(
        "post",
        f"/sittings/{s}/manual-results",
        {
            "item_id": items[2],
            "kind": "roll_call",
            "note": "Протокол лічильної комісії № 1",
            "choices": {str(d): c for d, c in v7_choices.items()},
        },
        status=201,
    )
    v7 = entered["vote_id"]
    expected[v7] = result(40, 30, 5, 1, 4, 3, 22, True)
    sheets[v7] = outcomes(v7_choices, registered, everyone)
    assert entered["manual"] is True and counted(entered["result"]) == expected[v7]

    closed = secretary.ok("post", f"/sittings/{s}/close")
    assert closed["state"] == "closed"
    assert public.ok("get", "/state")["sitting"] is None

    # --- every result, as anyone reads it afterwards -------------------------------------------
    for vote_id, wanted in expected.items():
        seen = public.ok("get", f"/votes/{vote_id}")
        assert counted(seen["result"]) == wanted, vote_id
        if vote_id in sheets:  # roll-call: the sheet is public
            lines = {line["deputy_id"]: line["outcome"] for line in seen["roll_call"]}
            assert lines == sheets[vote_id], vote_id
            assert all(
                line["outcome_uk"] == OUTCOME_UK[line["outcome"]] for line in seen["roll_call"]
            )
        else:
            assert "roll_call" not in seen, vote_id
    for vote_id in (v2, v3, v6):  # open votes: the protocol has the list
        staff = {
            line["deputy_id"]: line["outcome"]
            for line in secretary.ok("get", f"/votes/{vote_id}")["roll_call"]
        }
        assert len(staff) == 43 and staff[dep[0]] == "for"
    assert "roll_call" not in secretary.ok("get", f"/votes/{v4}")

    listed = public.ok("get", f"/sittings/{s}/votes")["votes"]
    assert [v["vote_id"] for v in listed] == [v1, v2, v3, v4, v5, v6, v7]
    assert [v["state"] for v in listed] == ["closed"] * 5 + ["annulled", "closed"]
    assert [v["kind"] for v in listed] == [
        "roll_call",
        "open",
        "open",
        "secret",
        "roll_call",
        "open",
        "roll_call",
    ]
    assert [v["rule"]["name"] for v in listed] == [
        "majority_of_total",
        "two_thirds_of_total",
        "two_thirds_of_total",
        "majority_of_registered",
        "majority_of_voting",
        "custom",
        "majority_of_total",
    ]
    assert [v["manual"] for v in listed] == [False] * 6 + [True]
    assert [counted(v["result"]) for v in listed] == [expected[v["vote_id"]] for v in listed]

    agenda = public.ok("get", f"/sittings/{s}/agenda")["agenda"]
    assert [(i["id"], i["status"]) for i in agenda] == [(i, "adopted") for i in items]

    # --- attendance: one sitting, everybody came; roll-call record of votes 1, 5 and 7 ---------
    record = {r["deputy_id"]: r for r in public.ok("get", "/attendance")["attendance"]}
    assert set(record) == set(everyone)
    for d in everyone:
        wanted = Counter(sheets[v][d] for v in (v1, v5, v7))
        assert (record[d]["sittings_held"], record[d]["sittings_attended"]) == (1, 1), d
        assert record[d]["votes"] == {o: wanted.get(o, 0) for o in OUTCOME_UK}, d
    assert public.ok("get", f"/deputies/{dep[40]}/attendance")["votes"]["absent"] == 2

    # --- the journal: every event, consecutive, and its chain holds ----------------------------
    entries: list[dict[str, Any]] = []
    while True:
        page = secretary.ok("get", f"/journal?after={entries[-1]['seq'] if entries else 0}")
        if not page["entries"]:
            break
        entries += page["entries"]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    casts = sum(len(c) for c in (v1_choices, v2_choices, v3_choices, v5_choices, v6_choices))
    assert Counter(e["kind"] for e in entries) == Counter(
        {
            "council_created": 1,
            "deputy_added": 43,
            "token_created": 1 + 1 + 43,
            "convocation_created": 1,
            "session_created": 1,
            "sitting_created": 1,
            "item_added": 3,
            "sitting_opened": 1,
            "registration_opened": 1,
            "deputy_registered": 43,
            "registration_closed": 1,
            "deputy_left": 3,
            "vote_opened": 6,  # the manual result was never open
            "choice_cast": casts,
            "secret_ballot_cast": len(v4_choices),
            "vote_closed": 7,
            "revote_called": 1,
            "vote_annulled": 1,
            "manual_result_entered": 1,
            # item 1: pending -> under consideration -> adopted; item 2: ... -> not adopted ->
            # adopted (re-vote); item 3: -> under consideration -> adopted (manual)
            "item_status_changed": 7,
            "sitting_closed": 1,
        }
    )
    secret = [e for e in entries if e["kind"] == "secret_ballot_cast"]
    assert all(set(e["payload"]) == {"vote_id", "deputy_id"} for e in secret)
    assert sorted(e["payload"]["deputy_id"] for e in secret) == sorted(v4_choices)
    cast_v1 = {
        e["payload"]["deputy_id"]: e["payload"]["choice"]
        for e in entries
        if e["kind"] == "choice_cast" and e["payload"]["vote_id"] == v1
    }
    assert cast_v1 == v1_choices

    verified = secretary.ok("get", "/journal/verify")
    assert verified["ok"] is True and verified["broken_seq"] is None
    assert verified["checked"] == len(entries)


def test_concurrent_registrations_report_exact_counts(council_roster):
    """Each answer, and each journal entry the hall display follows, gives the count right
    after that registration: 1, 2, ... 43, never a stale one."""
    hall = council_roster
    secretary = hall.caller(hall.secretary_token)
    person = {
        d: hall.caller(
            secretary.ok("post", "/tokens", {"role": "deputy", "deputy_id": d}, status=201)["token"]
        )
        for d in hall.everyone
    }
    s = plan_sitting(secretary, session_number=1)
    secretary.ok("post", f"/sittings/{s}/open")
    secretary.ok("post", f"/sittings/{s}/registration/open")
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(
            pool.map(lambda d: person[d].ok("post", f"/sittings/{s}/register"), hall.everyone)
        )
    assert secretary.ok("get", f"/sittings/{s}")["registered"] == 43
    entries = secretary.ok("get", "/journal")["entries"]
    journaled = [e["payload"]["registered"] for e in entries if e["kind"] == "deputy_registered"]
    assert journaled == list(range(1, 44))
    assert sorted(a["presence"]["registered"] for a in answers) == list(range(1, 44))
