"""A sitting run entirely through the JSON API, by people each calling with their own token.

The hall: 42 deputies and the mayor (who votes and, once registered, counts in the total
composition of 43), an open plenary sitting with three agenda items."""

from __future__ import annotations

import re

#: The anchor a closed vote publishes: the journal entry that closed it, "SEQ:HASH".
ANCHOR = re.compile(r"[0-9]+:[0-9a-f]{64}")


def counted(result: dict[str, object]) -> dict[str, object]:
    """A result's figures and outcome, without its anchor."""
    return {key: value for key, value in result.items() if key != "anchor"}


def choices_of(ids: list[int], choice: str) -> dict[int, str]:
    return {deputy_id: choice for deputy_id in ids}


def item_status(public, sitting_id: int, item_id: int) -> str:  # type: ignore[no-untyped-def]
    agenda = public.ok("get", f"/sittings/{sitting_id}/agenda")["agenda"]
    return next(i["status"] for i in agenda if i["id"] == item_id)


# ---------------------------------------------------------------------------------------------
# registration and quorum


def test_deputies_register_themselves_and_the_quorum_follows(hall, secretary, deputy, public):
    s, dep = hall.sitting, hall.deputies
    before = public.ok("get", "/state")["sitting"]
    assert (before["id"], before["registered"], before["quorum"]) == (s, 0, False)
    assert before["registration_open"] is False

    opened = secretary.ok("post", f"/sittings/{s}/registration/open")
    assert opened["round"] == 1
    assert opened["registration"]["round"] == 1 and opened["registration"]["open"] is True

    for deputy_id in dep[:21]:
        answer = deputy(deputy_id).ok("post", f"/sittings/{s}/register")
    assert (answer["deputy_id"], answer["registered"]) == (dep[20], True)
    presence = answer["presence"]
    assert (
        presence["registered"],
        presence["quorum_present"],
        presence["quorum_required"],
        presence["quorum"],
    ) == (21, 21, 22, False)

    # The mayor joins the total composition (43) but does not count toward the quorum.
    mayor = deputy(hall.head).ok("post", f"/sittings/{s}/register")["presence"]
    assert (mayor["total_composition"], mayor["registered"], mayor["quorum_present"]) == (
        43,
        22,
        21,
    )
    assert mayor["quorum"] is False

    last = deputy(dep[21]).ok("post", f"/sittings/{s}/register")["presence"]
    assert (last["quorum_present"], last["quorum_required"], last["quorum"]) == (22, 22, True)

    state = public.ok("get", "/state")["sitting"]
    assert state["registered"] == 23 and state["quorum"] is True
    assert state["registration_open"] is True and state["total_composition"] == 43
    sitting = public.ok("get", f"/sittings/{s}")
    assert (sitting["registered"], sitting["quorum_present"], sitting["quorum"]) == (23, 22, True)
    assert sitting["registration"] == {
        "round": 1,
        "open": True,
        "opened_at": sitting["registration"]["opened_at"],
        "interrupted_at": None,  # no server stopped while it was open
    }

    left = deputy(dep[21]).ok("post", f"/sittings/{s}/unregister")
    assert (left["deputy_id"], left["registered"]) == (dep[21], False)
    assert left["presence"]["quorum"] is False
    assert public.ok("get", f"/sittings/{s}")["quorum_present"] == 21

    closed = secretary.ok("post", f"/sittings/{s}/registration/close")
    assert closed["registered"] == 22
    assert public.ok("get", f"/sittings/{s}")["registration"]["open"] is False


def test_a_deputy_steps_out_and_comes_back(hall, secretary, deputy, public):
    s, me = hall.sitting, deputy(hall.deputies[0])
    secretary.ok("post", f"/sittings/{s}/registration/open")
    assert me.ok("post", f"/sittings/{s}/register")["presence"]["registered"] == 1
    assert me.ok("post", f"/sittings/{s}/unregister")["presence"]["registered"] == 0
    back = me.ok("post", f"/sittings/{s}/register")
    assert back["registered"] is True and back["presence"]["registered"] == 1
    assert public.ok("get", f"/sittings/{s}")["registered"] == 1


def test_the_secretary_marks_a_deputy_present(hall, secretary, public):
    s = hall.sitting
    secretary.ok("post", f"/sittings/{s}/registration/open", {"carry_over": False})
    answer = secretary.ok("post", f"/sittings/{s}/register", {"deputy_id": hall.deputies[5]})
    assert (answer["deputy_id"], answer["registered"]) == (hall.deputies[5], True)
    assert answer["presence"]["registered"] == 1
    assert public.ok("get", f"/sittings/{s}")["registered"] == 1


# ---------------------------------------------------------------------------------------------
# a roll-call vote from opening to the published roll-call list


def test_roll_call_vote_from_open_to_roll_call_list(hall, secretary, deputy, public, present):
    s, dep, head = hall.sitting, hall.deputies, hall.head
    present([*dep[:30], head])
    item = hall.items[0]

    opened = secretary.ok(
        "post", f"/sittings/{s}/votes", {"item_id": item, "kind": "roll_call"}, status=201
    )
    vote_id = opened["vote_id"]
    assert (opened["state"], opened["kind"], opened["stage"]) == ("open", "roll_call", "as_a_whole")
    assert opened["title"] == "Про питання 1" and opened["item_id"] == item
    assert opened["rule"]["name"] == "majority_of_total" and opened["total_composition"] == 43
    state = public.ok("get", "/state")
    assert state["current_item"]["id"] == item and state["vote"]["vote_id"] == vote_id
    assert public.ok("get", f"/sittings/{s}/agenda")["agenda"][0]["status"] == "under_consideration"

    plan = {
        **choices_of([*dep[:21], head], "for"),
        **choices_of(dep[21:25], "against"),
        **choices_of(dep[25:28], "abstain"),
    }
    for deputy_id, choice in plan.items():
        ack = deputy(deputy_id).ok("post", f"/votes/{vote_id}/choices", {"choice": choice})
        assert ack == {
            "vote_id": vote_id,
            "deputy_id": deputy_id,
            "choice": choice,
            "recorded": True,
        }

    # While open, the public sees how many have voted, not who chose what.
    during = public.ok("get", f"/votes/{vote_id}")
    assert during["votes_cast"] == 29 and during["state"] == "open"
    for hidden in ("roll_call", "running", "not_yet_voted", "result"):
        assert hidden not in during
    assert public.ok("get", "/state")["vote"]["votes_cast"] == 29
    assert "running" not in deputy(dep[0]).ok("get", f"/votes/{vote_id}")
    staff = secretary.ok("get", f"/votes/{vote_id}")
    assert staff["running"] == {"for": 22, "against": 4, "abstain": 3}
    assert staff["not_yet_voted"] == sorted(dep[28:30])

    closed = secretary.ok("post", f"/votes/{vote_id}/close")
    assert closed["state"] == "closed"
    assert ANCHOR.fullmatch(closed["result"]["anchor"])  # published at the close
    assert counted(closed["result"]) == {
        "registered": 31,
        "for": 22,
        "against": 4,
        "abstain": 3,
        "not_voted": 2,
        "absent": 12,
        "threshold": 22,
        "result": "adopted",
        "result_uk": "Прийнято",
    }
    assert closed["rule"]["description"] == "більше половини від загального складу ради"

    published = public.ok("get", f"/votes/{vote_id}")
    assert published["result"] == closed["result"]
    lines = {line["deputy_id"]: line["outcome_uk"] for line in published["roll_call"]}
    expected = {
        deputy_id: {"for": "За", "against": "Проти", "abstain": "Утримався"}[choice]
        for deputy_id, choice in plan.items()
    }
    expected |= {d: "Не голосував" for d in dep[28:30]} | {d: "Відсутній" for d in dep[30:]}
    assert lines == expected
    assert published["roll_call"][0]["deputy_id"] == head  # the head leads the list
    assert {line["outcome"] for line in published["roll_call"]} == {
        "for",
        "against",
        "abstain",
        "not_voted",
        "absent",
    }

    agenda = public.ok("get", f"/sittings/{s}/agenda")["agenda"]
    assert (agenda[0]["status"], agenda[0]["status_uk"]) == ("adopted", "Прийнято")
    listed = public.ok("get", f"/sittings/{s}/votes")["votes"]
    assert [v["vote_id"] for v in listed] == [vote_id] and listed[0]["result"] == closed["result"]


# ---------------------------------------------------------------------------------------------
# open and secret votes: who may see what


def test_open_vote_publishes_counts_and_the_protocol_keeps_the_list(
    hall, secretary, chair, deputy, public, present
):
    s, dep, head = hall.sitting, hall.deputies, hall.head
    present([*dep[:30], head])
    vote_id = secretary.ok(
        "post",
        f"/sittings/{s}/votes",
        {"title": "Про зміну порядку денного", "kind": "open", "rule": "majority_of_voting"},
        status=201,
    )["vote_id"]
    plan = {
        **choices_of(dep[:10], "for"),
        **choices_of(dep[10:14], "against"),
        **choices_of(dep[14:16], "abstain"),
    }
    for deputy_id, choice in plan.items():
        deputy(deputy_id).ok("post", f"/votes/{vote_id}/choices", {"choice": choice})

    closed = chair.ok("post", f"/votes/{vote_id}/close")
    # 16 voted: more than half of them is 9.
    assert closed["result"]["threshold"] == 9 and closed["result"]["result"] == "adopted"
    assert (closed["result"]["for"], closed["result"]["against"], closed["result"]["abstain"]) == (
        10,
        4,
        2,
    )
    assert closed["stage"] == "procedural" and closed["item_id"] is None

    seen = public.ok("get", f"/votes/{vote_id}")
    assert seen["result"] == closed["result"] and "roll_call" not in seen
    assert "roll_call" not in deputy(dep[0]).ok("get", f"/votes/{vote_id}")
    assert "roll_call" not in public.ok("get", "/state")["vote"]
    for staff in (secretary, chair):
        lines = {
            line["deputy_id"]: line["outcome"]
            for line in staff.ok("get", f"/votes/{vote_id}")["roll_call"]
        }
        assert len(lines) == 43 and {d: lines[d] for d in plan} == plan
        assert lines[dep[20]] == "not_voted" and lines[dep[40]] == "absent"


def test_secret_ballot_never_shows_who_chose_what(hall, secretary, deputy, public, present):
    s, dep, head = hall.sitting, hall.deputies, hall.head
    present([*dep[:30], head])
    vote_id = secretary.ok(
        "post",
        f"/sittings/{s}/votes",
        {"title": "Обрання секретаря ради", "kind": "secret", "rule": "majority_of_registered"},
        status=201,
    )["vote_id"]
    plan = {
        **choices_of(dep[:12], "for"),
        **choices_of(dep[12:20], "against"),
        **choices_of(dep[20:22], "abstain"),
    }
    for deputy_id, choice in plan.items():
        deputy(deputy_id).ok("post", f"/votes/{vote_id}/choices", {"choice": choice})

    for viewer in (public, secretary):
        during = viewer.ok("get", f"/votes/{vote_id}")
        assert during["votes_cast"] == 22
        assert "running" not in during and "roll_call" not in during
    assert secretary.ok("get", f"/votes/{vote_id}")["participants"] == sorted(plan)

    closed = secretary.ok("post", f"/votes/{vote_id}/close")
    # 31 registered: more than half is 16; 12 for is not enough.
    assert ANCHOR.fullmatch(closed["result"]["anchor"])  # published at the close
    assert counted(closed["result"]) == {
        "registered": 31,
        "for": 12,
        "against": 8,
        "abstain": 2,
        "not_voted": 9,
        "absent": 12,
        "threshold": 16,
        "result": "not_adopted",
        "result_uk": "Не прийнято",
    }
    for viewer in (public, secretary, deputy(dep[0])):
        assert "roll_call" not in viewer.ok("get", f"/votes/{vote_id}")
    entries = secretary.ok("get", "/journal")["entries"]
    secret_casts = [e for e in entries if e["kind"] == "secret_ballot_cast"]
    assert len(secret_casts) == 22
    assert all(set(e["payload"]) == {"vote_id", "deputy_id"} for e in secret_casts)


# ---------------------------------------------------------------------------------------------
# re-vote, annulment, manual result


def test_revote_after_a_failed_vote(hall, secretary, deputy, public, present, cast_all):
    s, dep, head = hall.sitting, hall.deputies, hall.head
    present(hall.everyone)
    item = hall.items[1]
    first = secretary.ok("post", f"/sittings/{s}/votes", {"item_id": item}, status=201)["vote_id"]
    cast_all(first, {**choices_of(dep[:21], "for"), **choices_of(dep[21:30], "against")})
    failed = secretary.ok("post", f"/votes/{first}/close")["result"]
    assert (failed["for"], failed["threshold"], failed["result_uk"]) == (21, 22, "Не прийнято")
    assert item_status(public, s, item) == "not_adopted"

    again = secretary.ok("post", f"/votes/{first}/revote", status=201)
    assert (again["attempt"], again["previous_vote_id"], again["item_id"]) == (2, first, item)
    assert again["state"] == "open" and again["rule"] == public.ok("get", f"/votes/{first}")["rule"]
    cast_all(again["vote_id"], choices_of([*dep[:21], head], "for"))
    passed = secretary.ok("post", f"/votes/{again['vote_id']}/close")["result"]
    assert (passed["for"], passed["not_voted"], passed["result_uk"]) == (22, 21, "Прийнято")
    assert item_status(public, s, item) == "adopted"

    listed = public.ok("get", f"/sittings/{s}/votes")["votes"]
    assert [(v["attempt"], v["result"]["result"]) for v in listed] == [
        (1, "not_adopted"),
        (2, "adopted"),
    ]


def test_annulled_vote_is_kept_and_no_longer_decides_its_item(
    hall, secretary, deputy, public, present, cast_all
):
    s, dep = hall.sitting, hall.deputies
    present(dep[:30])
    item = hall.items[0]
    vote_id = secretary.ok("post", f"/sittings/{s}/votes", {"item_id": item}, status=201)["vote_id"]
    cast_all(vote_id, choices_of(dep[:25], "for"))
    secretary.ok("post", f"/votes/{vote_id}/close")
    assert item_status(public, s, item) == "adopted"

    annulled = secretary.ok(
        "post", f"/votes/{vote_id}/annul", {"reason": "Збій системи: табло не показувало питання"}
    )
    assert annulled["state"] == "annulled"
    assert annulled["annul_reason"] == "Збій системи: табло не показувало питання"
    assert annulled["result"]["for"] == 25  # the count is kept for the record
    assert item_status(public, s, item) == "under_consideration"
    listed = public.ok("get", f"/sittings/{s}/votes")["votes"]
    assert listed[0]["state"] == "annulled" and listed[0]["annul_reason"].startswith("Збій")

    # An open vote can be annulled too, which frees the hall for the next one.
    other = secretary.ok("post", f"/sittings/{s}/votes", {"title": "Процедурне"}, status=201)[
        "vote_id"
    ]
    assert (
        secretary.ok("post", f"/votes/{other}/annul", {"reason": "Помилка в назві"})["state"]
        == "annulled"
    )
    secretary.ok("post", f"/sittings/{s}/votes", {"title": "Процедурне, повторно"}, status=201)


def test_manual_result_of_the_counting_commission(hall, secretary, deputy, public, present):
    s, dep, head = hall.sitting, hall.deputies, hall.head
    present([*dep[:30], head])
    item = hall.items[2]
    choices = {**choices_of(dep[:25], "for"), dep[25]: "against", dep[26]: "abstain"}
    entered = secretary.ok(
        "post",
        f"/sittings/{s}/manual-results",
        {
            "item_id": item,
            "kind": "roll_call",
            "choices": {str(k): v for k, v in choices.items()},
            "note": "Протокол лічильної комісії № 3",
        },
        status=201,
    )
    assert entered["manual"] is True and entered["state"] == "closed"
    assert ANCHOR.fullmatch(entered["result"]["anchor"])  # published at the close
    assert counted(entered["result"]) == {
        "registered": 31,
        "for": 25,
        "against": 1,
        "abstain": 1,
        "not_voted": 4,
        "absent": 12,
        "threshold": 22,
        "result": "adopted",
        "result_uk": "Прийнято",
    }
    lines = {
        line["deputy_id"]: line["outcome"]
        for line in public.ok("get", f"/votes/{entered['vote_id']}")["roll_call"]
    }
    assert lines[dep[0]] == "for" and lines[head] == "not_voted" and lines[dep[35]] == "absent"
    assert item_status(public, s, item) == "adopted"
    kinds = [e["kind"] for e in secretary.ok("get", "/journal")["entries"]]
    assert "manual_result_entered" in kinds


def test_manual_result_of_a_secret_ballot_is_counts_only(hall, secretary, deputy, public, present):
    s, dep = hall.sitting, hall.deputies
    present(dep[:10])
    entered = secretary.ok(
        "post",
        f"/sittings/{s}/manual-results",
        {
            "title": "Обрання голови комісії (бюлетені)",
            "kind": "secret",
            "counts": {"for": 6, "against": 2, "abstain": 1},
        },
        status=201,
    )
    assert "roll_call" not in entered and "roll_call" not in public.ok(
        "get", f"/votes/{entered['vote_id']}"
    )
    result = entered["result"]
    assert (result["for"], result["against"], result["abstain"], result["registered"]) == (
        6,
        2,
        1,
        10,
    )
    assert result["threshold"] == 22 and result["result"] == "not_adopted"
    # The mayor is not registered: the total composition is 42.
    assert (result["not_voted"], result["absent"]) == (1, 32)


def test_manual_secret_result_splits_not_voted_and_absent(hall, secretary, present):
    present(hall.deputies[:30])
    result = secretary.ok(
        "post",
        f"/sittings/{hall.sitting}/manual-results",
        {
            "title": "Таємне (бюлетені)",
            "kind": "secret",
            "counts": {"for": 20, "against": 5, "abstain": 1},
        },
        status=201,
    )["result"]
    # 30 registered, 26 ballots: 4 registered did not vote, 12 seats had nobody registered.
    assert (result["registered"], result["not_voted"], result["absent"]) == (30, 4, 12)
    assert (result["threshold"], result["result"]) == (22, "not_adopted")


# ---------------------------------------------------------------------------------------------
# agenda


def test_agenda_add_reorder_edit_and_status(hall, secretary, chair, public):
    s = hall.sitting
    added = secretary.ok(
        "post",
        f"/sittings/{s}/agenda",
        {
            "title": "Про бюджет громади на 2027 рік",
            "draft_number": "800/1",
            "rapporteur": "Фінансове управління",
        },
        status=201,
    )
    assert [i["id"] for i in added["agenda"]] == [*hall.items, added["id"]]
    assert added["agenda"][-1]["position"] == 4 and added["agenda"][-1]["status_uk"] == (
        "Не розглядалось"
    )
    first = secretary.ok(
        "post", f"/sittings/{s}/agenda", {"title": "Про звернення", "position": 1}, status=201
    )
    assert first["agenda"][0]["id"] == first["id"]

    order = [i["id"] for i in reversed(first["agenda"])]
    reordered = chair.ok("put", f"/sittings/{s}/agenda/order", {"order": order})["agenda"]
    assert [i["id"] for i in reordered] == order
    assert [i["position"] for i in reordered] == [1, 2, 3, 4, 5]

    secretary.ok("patch", f"/agenda-items/{added['id']}", {"title": "Про бюджет на 2027 рік"})
    withdrawn = secretary.ok(
        "put", f"/agenda-items/{hall.items[0]}/status", {"status": "withdrawn"}
    )
    assert withdrawn == {"id": hall.items[0], "status": "withdrawn"}
    chair.ok("put", f"/agenda-items/{hall.items[1]}/status", {"status": "postponed"})
    agenda = {i["id"]: i for i in public.ok("get", f"/sittings/{s}/agenda")["agenda"]}
    assert agenda[added["id"]]["title"] == "Про бюджет на 2027 рік"
    assert agenda[hall.items[0]]["status_uk"] == "Знято з розгляду"
    assert agenda[hall.items[1]]["status_uk"] == "Перенесено"
    assert [i["id"] for i in public.ok("get", f"/sittings/{s}")["agenda"]] == order


# ---------------------------------------------------------------------------------------------
# roster, attendance, sessions


def test_deputies_and_their_attendance(hall, secretary, deputy, public, present, cast_all):
    s, dep, head = hall.sitting, hall.deputies, hall.head
    roster = public.ok("get", "/deputies")["deputies"]
    assert len(roster) == 43 and roster[0]["id"] == head and roster[0]["is_head"] is True
    assert {d["faction"] for d in roster[1:]} == {
        "Світанок",
        "Каштанова алея",
        "Громада-2030",
        "Зелений берег",
    }
    one = public.ok("get", f"/deputies/{dep[0]}")
    assert (one["full_name"], one["seat_number"], one["voting_identifier"]) == (
        "Депутатенко01 Іван Петрович",
        1,
        "dep-1",
    )

    present([*dep[:30], head])
    roll = secretary.ok("post", f"/sittings/{s}/votes", {"item_id": hall.items[0]}, status=201)[
        "vote_id"
    ]
    cast_all(roll, {**choices_of(dep[:20], "for"), **choices_of(dep[20:25], "against")})
    secretary.ok("post", f"/votes/{roll}/close")
    # An open vote is not part of the public roll-call record.
    open_ = secretary.ok(
        "post", f"/sittings/{s}/votes", {"title": "Відкрите", "kind": "open"}, status=201
    )["vote_id"]
    cast_all(open_, choices_of(dep[:30], "against"))
    secretary.ok("post", f"/votes/{open_}/close")

    def record(deputy_id: int) -> dict:
        return public.ok("get", f"/deputies/{deputy_id}/attendance")

    zero = {"for": 0, "against": 0, "abstain": 0, "not_voted": 0, "absent": 0}
    assert record(dep[0]) == {
        "deputy_id": dep[0],
        "full_name": "Депутатенко01 Іван Петрович",
        "sittings_held": 1,
        "sittings_attended": 1,
        "votes": {**zero, "for": 1},
    }
    assert record(dep[22])["votes"] == {**zero, "against": 1}
    assert record(dep[27])["votes"] == {**zero, "not_voted": 1}
    assert record(head)["votes"] == {**zero, "not_voted": 1}
    absent = record(dep[35])
    assert absent["sittings_attended"] == 0 and absent["votes"] == {**zero, "absent": 1}

    everyone = public.ok("get", "/attendance")["attendance"]
    assert len(everyone) == 43
    assert sum(r["votes"]["for"] for r in everyone) == 20
    assert sum(r["votes"]["against"] for r in everyone) == 5
    assert sum(r["sittings_attended"] for r in everyone) == 31


def test_a_deputy_who_left_early_still_attended(hall, secretary, deputy, public, present, cast_all):
    s, dep = hall.sitting, hall.deputies
    present(dep[:30])
    vote_id = secretary.ok("post", f"/sittings/{s}/votes", {"item_id": hall.items[0]}, status=201)[
        "vote_id"
    ]
    cast_all(vote_id, {dep[0]: "for"})
    secretary.ok("post", f"/votes/{vote_id}/close")
    deputy(dep[0]).ok("post", f"/sittings/{s}/unregister")
    record = public.ok("get", f"/deputies/{dep[0]}/attendance")
    assert record["votes"]["for"] == 1
    assert record["sittings_attended"] == 1


def test_sessions_list_their_sittings(hall, public):
    sessions = public.ok("get", "/sessions")["sessions"]
    assert len(sessions) == 1
    session = sessions[0]
    assert session["number"] == 17 and session["convocation"]["number"] == 8
    assert session["convocation"]["label"] == "VIII скликання"
    assert [(x["id"], x["state"], x["date"]) for x in session["sittings"]] == [
        (hall.sitting, "open", "2026-11-25")
    ]
    council = public.ok("get", "/council")
    assert council["name"] == "Тестова міська рада" and council["statutory_deputies"] == 42


def test_closing_the_sitting(hall, secretary, public):
    s = hall.sitting
    secretary.ok("post", f"/sittings/{s}/registration/open")
    closed = secretary.ok("post", f"/sittings/{s}/close")
    assert closed["state"] == "closed" and closed["registration"]["open"] is False
    assert public.ok("get", "/state")["sitting"] is None
    refused = secretary.post(f"/sittings/{s}/votes", {"title": "Запізно", "override_quorum": True})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "sitting_not_open"


# ---------------------------------------------------------------------------------------------
# journal and identity


def test_journal_is_for_staff_only(hall, secretary, chair, deputy, public, present):
    present(hall.deputies[:3])
    entries = secretary.ok("get", "/journal")["entries"]
    seqs = [e["seq"] for e in entries]
    assert seqs == list(range(1, len(seqs) + 1))
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "council_created" and kinds.count("deputy_registered") == 3
    assert "sitting_opened" in kinds and "registration_opened" in kinds
    later = secretary.ok("get", "/journal?after=5")["entries"]
    assert later[0]["seq"] == 6 and later == entries[5:]
    assert chair.ok("get", "/journal")["entries"][: len(entries)] == entries

    verified = secretary.ok("get", "/journal/verify")
    assert verified["ok"] is True and verified["broken_seq"] is None
    assert verified["checked"] >= len(entries)
    assert chair.ok("get", "/journal/verify")["ok"] is True

    for path in ("/journal", "/journal/verify"):
        refused = deputy(hall.deputies[0]).get(path)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "forbidden"
        assert "secretary and the chair" in refused.get_json()["error"]["message"]
        anonymous = public.get(path)
        assert anonymous.status_code == 401
        assert anonymous.get_json()["error"]["code"] == "unauthenticated"


def test_a_closed_vote_publishes_its_anchor_and_the_journal_is_checked_against_it(
    hall, secretary, public, present, cast_all
):
    """The anchor is in the vote's public answer from its close; `/journal/verify?anchor=`
    checks the journal against published anchors, names a wrong one, and refuses a malformed
    one by name."""
    present(hall.deputies[:25])
    vote = secretary.ok(
        "post", f"/sittings/{hall.sitting}/votes", {"item_id": hall.items[0]}, status=201
    )["vote_id"]
    assert public.ok("get", f"/votes/{vote}").get("result") is None  # nothing to anchor yet
    cast_all(vote, {d: "for" for d in hall.deputies[:25]})
    secretary.ok("post", f"/votes/{vote}/close")
    anchor = public.ok("get", f"/votes/{vote}")["result"]["anchor"]
    seq, digest = anchor.split(":")
    entry = next(e for e in secretary.ok("get", "/journal")["entries"] if e["seq"] == int(seq))
    assert (entry["kind"], entry["hash"], entry["payload"]["vote_id"]) == (
        "vote_closed",
        digest,
        vote,
    )

    held = secretary.ok("get", f"/journal/verify?anchor={anchor}")
    assert (held["ok"], held["anchors"], held["keyed"]) == (True, 1, True)
    assert held["message"].endswith("(1 published anchor matched)")
    wrong = secretary.ok("get", f"/journal/verify?anchor={seq}:{'0' * 64}")
    assert (wrong["ok"], wrong["broken_seq"]) == (False, int(seq))
    assert "differs from the published anchor" in wrong["message"]
    bad = secretary.get("/journal/verify?anchor=12:abc")
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["field"] == "anchor"
    assert "64 hex digits" in bad.get_json()["error"]["message"]


def test_me_names_the_token_holder(hall, secretary, chair, deputy, public, client):
    assert secretary.ok("get", "/me")["role"] == "secretary"
    assert chair.ok("get", "/me") == {
        "role": "chair",
        "label": chair.ok("get", "/me")["label"],
        "deputy_id": None,
    }
    me = deputy(hall.deputies[7]).ok("get", "/me")
    assert (me["role"], me["deputy_id"]) == ("deputy", hall.deputies[7])
    assert public.get("/me").status_code == 401

    issued = secretary.ok(
        "post",
        "/tokens",
        {"role": "deputy", "deputy_id": hall.deputies[8], "label": "планшет місця 9"},
        status=201,
    )
    fresh = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued['token']}"})
    assert fresh.status_code == 200
    assert (fresh.get_json()["role"], fresh.get_json()["deputy_id"]) == ("deputy", hall.deputies[8])
