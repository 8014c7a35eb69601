"""The interface's language: Ukrainian by default, English on request (Flask-Babel).

The language comes from `?lang=uk|en` (remembered in a cookie), else the cookie, else the
configured `server.locale`. Times are shown in `server.timezone` (Europe/Kyiv by default).
Message ids are English; voting/translations holds the Ukrainian catalog.

The screens' ES modules get their strings from the page (`ui_strings()`, rendered as JSON), and
plural forms as one pattern per CLDR plural category, so that a module picks the right form
with the browser's Intl.PluralRules, exactly as ngettext would on the server.
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale
from flask import Flask, Response, request
from flask_babel import Babel, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from voting.config import LOCALES, Config

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def init_i18n(app: Flask, config: Config) -> Babel:
    app.config["BABEL_DEFAULT_LOCALE"] = config.server.locale
    app.config["BABEL_DEFAULT_TIMEZONE"] = config.server.timezone
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    babel = Babel(app, locale_selector=lambda: select_locale(config.server.locale))

    @app.after_request
    def remember_language(response: Response) -> Response:
        asked = request.args.get("lang")
        if asked in LOCALES and request.cookies.get(COOKIE) != asked:
            response.set_cookie(
                COOKIE,
                asked,
                max_age=COOKIE_MAX_AGE,
                samesite="Lax",
                httponly=True,  # no script reads it: the server renders the language
                secure=request.is_secure,
            )
        return response

    @app.context_processor
    def language() -> dict[str, object]:
        return {
            "lang": str(get_locale()),
            "languages": LOCALES,
            "ui_strings": ui_strings,
            "timezone": config.server.timezone,
        }

    return babel


def select_locale(default: str) -> str:
    for asked in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if asked in LOCALES:
            return asked
    return default


def plural_patterns(singular: str, plural: str) -> dict[str, str]:
    """The message in every plural category of the current language, `{n}` for the number."""
    locale = get_locale() or Locale.parse("uk")
    translations = get_translations()
    out: dict[str, str] = {}
    for n in range(0, 200):
        category = locale.plural_form(n)
        if category not in out:
            out[category] = translations.ungettext(singular, plural, n).replace("%(num)d", "{n}")
    return out


#: Strings the screens' modules show, by key (message ids are English).
STRINGS = {
    "for": _l("For"),
    "against": _l("Against"),
    "abstain": _l("Abstained"),
    "not_voted": _l("Did not vote"),
    "absent": _l("Absent"),
    # Beside a count (the bars): Ukrainian says it in the plural ("Утрималися 3").
    "count_for": _lp("count", "For"),
    "count_against": _lp("count", "Against"),
    "count_abstain": _lp("count", "Abstained"),
    "count_not_voted": _lp("count", "Did not vote"),
    "count_absent": _lp("count", "Absent"),
    "count_registered": _lp("count", "Registered"),
    "adopted": _l("Adopted"),
    "not_adopted": _l("Not adopted"),
    "quorum_yes": _l("Quorum"),
    "quorum_no": _l("No quorum"),
    "no_sitting": _l("No sitting is open"),
    "no_item": _l("No item is under consideration"),
    "vote_open": _l("Voting"),
    "vote_closed": _l("Vote closed"),
    "vote_annulled": _l("Annulled"),
    "annul_reason": _l("Reason"),
    "secret_ballot": _l("Secret ballot"),
    "roll_call": _l("Roll-call vote"),
    "open_vote": _l("Open vote"),
    "time_left": _l("Time left"),
    "no_limit": _l("No time limit"),
    "threshold": _l("Needed"),
    "anchor": _l("Journal anchor"),
    "registered": _l("Registered"),
    "total": _l("Total composition"),
    "votes_cast": _l("Votes cast"),
    "connecting": _l("Connecting…"),
    "reconnecting": _l("Connection lost, reconnecting…"),
    "connected": _l("Live"),
    "your_choice": _l("Your choice is recorded:"),
    "ballot_recorded": _l("Your ballot is recorded"),
    "secret_notice": _l(
        "Secret ballot: your choice is counted, but nothing records who chose what."
    ),
    "waiting_vote": _l("Wait for the vote to open"),
    # The adoption rule, in the words of the screen's language (rule.describe_uk's parts).
    "rule_more_than": _l("more than"),
    "rule_at_least": _l("at least"),
    "rule_half": _l("half"),
    "rule_of_total": _l("of the council's total composition"),
    "rule_of_registered": _l("of those registered"),
    "rule_of_voting": _l("of those voting"),
    "title_more": _l("Full title"),
    "title_less": _l("Collapse"),
    "register": _l("Register"),
    "registered_ok": _l("You are registered"),
    "registration_closed": _l("Registration is closed"),
    "sending": _l("Sending…"),
    "error": _l("Error"),
    "confirm": _l("Are you sure?"),
    "sign_in_failed": _l("Sign-in failed"),
    "seat": _l("Seat"),
    "deputy": _l("Deputy"),
    "faction": _l("Faction"),
    "outcome": _l("Vote"),
    "manual": _l("Counting commission"),
    "attempt": _l("Attempt"),
    "confirm_close_vote": _l("Close the vote now?"),
    "confirm_annul": _l("Annul this vote? Give the reason:"),
    "confirm_revote": _l("Put this question to the vote again?"),
    "confirm_close_registration": _l("Close registration?"),
    "confirm_new_round": _l(
        "Start a new registration round? Everyone registered now must register again:"
    ),
    "confirm_close_sitting": _l("Close the sitting? Its record becomes final."),
    "not_yet_voted": _l("Not yet voted"),
    "everyone_voted": _l("Everyone has voted"),
    "make_current": _l("Consider now"),
    "current": _l("Now"),
    "done": _l("Done"),
    "stage": _l("Stage"),
    "stage_as_a_whole": _l("As a whole"),
    "stage_as_a_basis": _l("As a basis"),
    "stage_amendment": _l("Amendment"),
    "stage_procedural": _l("Procedural question"),
    "stage_other": _l("Other"),
    "offline_wait": _l("No connection to the server: wait, the terminal reconnects by itself"),
    "kind": _l("Kind"),
    "rule": _l("Adoption rule"),
    "item": _l("Item"),
    "state": _l("State"),
    "open_registration": _l("Open registration"),
    "close_registration": _l("Close registration"),
    "open_sitting": _l("Open the sitting"),
    "no_planned_sittings": _l("No sitting is planned"),
    "staff_only": _l("this screen is for the secretary and the chair"),
    "status_pending": _l("Not yet considered"),
    "status_under_consideration": _l("Under consideration"),
    "status_adopted": _l("Adopted"),
    "status_not_adopted": _l("Not adopted"),
    "status_withdrawn": _l("Withdrawn"),
    "status_postponed": _l("Postponed"),
    "postpone": _l("Postpone"),
    "withdraw": _l("Withdraw"),
    "move_up": _l("Move up"),
    "move_down": _l("Move down"),
    "head": _l("Head of the council"),
    "activate": _l("Restore"),
    "deactivate": _l("End the mandate"),
    "role_secretary": _l("Council secretary"),
    "role_chair": _l("Chair"),
    "no_answer": _l("No answer from the server; here is what it has recorded."),
    "confirm_manual": _l("Enter the counting commission's result?"),
    "announce": _l("Announce the result"),
    "announced": _l("Result announced"),
    # The floor (speech types as the Regulations name them).
    "speech_type_report": _l("Report"),
    "speech_type_co_report": _l("Co-report"),
    "speech_type_closing_word": _l("Closing word"),
    "speech_type_speech": _l("Speech in the debate"),
    "speech_type_question": _l("Question"),
    "speech_type_answer": _l("Answer"),
    "speech_type_reply": _l("Reply"),
    "speech_type_point_of_order": _l("Point of order"),
    "speech_type_explanation_of_vote": _l("Explanation of vote"),
    "speech_type_faction_statement": _l("Faction statement"),
    "speech_type_invited": _l("Invited speaker"),
    "invited": _l("Invited speaker"),
    "spoke": _l("Spoke"),
    "waiting": _l("Waiting"),
    "next_speakers": _l("Next"),
    "speaker_list": _l("Speaker list"),
    "queue_empty": _l("No one is waiting to speak"),
    # The hall display's board (static/js/board.js).
    "hall_plan": _l("Hall plan"),
    "roll_call_results": _l("How each deputy voted"),
    "by_faction": _l("By faction"),
    "no_faction": _l("Not in a faction"),
    "page_of": _l("Page {n} of {m}"),
    "sitting_votes": _l("Votes of this sitting"),
    "paused": _l("Paused"),
    "list_open": _l("The list is open"),
    "list_closed": _l("The list is closed"),
    "close_list": _l("Close the list"),
    "reopen_list": _l("Reopen the list"),
    "readd_last": _l("Re-add the last speaker"),
    "give_floor": _l("Give the floor"),
    "remove_request": _l("Remove from the list"),
    "pause": _l("Pause"),
    "resume": _l("Resume"),
    "allotted": _l("allotted"),
    "recording_failed": _l("The speech is not being recorded"),
    "your_place": _l("Your place in the list"),
    "estimated_wait": _l("Estimated wait"),
    "withdraw_request": _l("Withdraw from the list"),
    "mic_chair": _l("Chair"),
    "mic_tribune": _l("Tribune"),
    "mic_mode_operator": _l("switched by the operator"),
    "mic_mode_automatic": _l("switched automatically"),
    "mic_mode_request": _l("on request"),
    "all_mics_off": _l("Every microphone is off"),
    "switch_off": _l("Switch off"),
    # The seat consoles (the control screen's panel).
    "consoles_answer": _l("consoles answer on the bus"),
    "consoles_offline": _l("Not answering: seats"),
    "console_alarm": _l("One card in two seats: neither may vote"),
    "keep_card_in_seat": _l("Keep the card in seat"),
    "bus_trouble": _l("Refused on the bus"),
    # The official record, from the control screen.
    "protocol_pdf": _l("Protocol (PDF)"),
    "in_the_archive": _l("In the archive"),
    "produce_record": _l("Produce the record again"),
    "producing_record": _l("Producing the record"),
    "record_ready": _l("The record is ready"),
    "record_failed": _l("The record could not be produced"),
    "version": _l("version"),
    # A sitting's details, as its protocol states them.
    "sitting_details": _l("Place, chair and secretary"),
    "place": _l("Place"),
    "chair": _l("Chair"),
    "secretary": _l("Secretary"),
    "not_chosen": _l("not chosen"),
    "save": _l("Save"),
    "saved": _l("Saved"),
    "vote_interrupted": _l(
        "The vote was interrupted: the server stopped at {time}. Nobody can vote until you "
        "decide. The choices recorded before are kept: continue the vote, close and count it "
        "as it stands, or annul it."
    ),
    "secret_interrupted": _l(
        "The secret ballot was interrupted: the server stopped at {time}. A secret ballot cut "
        "short cannot be counted: annul it and hold it again."
    ),
    "registration_interrupted": _l(
        "Registration was interrupted: the server stopped at {time}. Those registered stay "
        "registered; nobody can register until you continue or close it."
    ),
    "speech_interrupted": _l(
        "The speech was interrupted: the server stopped at {time}, and its time stopped then. "
        "Resume or end it."
    ),
    "clock_stopped": _l("The time stands still"),
    "vote_interrupted_wait": _l(
        "The vote was interrupted when the server stopped: wait until the secretary continues it"
    ),
}

#: The staff screen's event log: what each journal entry's kind means.
EVENTS = {
    "deputy_registered": _l("registered"),
    "deputy_left": _l("left the hall"),
    "choice_cast": _l("a vote cast"),
    "secret_ballot_cast": _l("a ballot cast"),
    "vote_opened": _l("vote opened"),
    "vote_closed": _l("vote closed"),
    "revote_called": _l("re-vote called"),
    "vote_annulled": _l("vote annulled"),
    "manual_result_entered": _l("counting commission's result entered"),
    "result_announced": _l("result announced"),
    "registration_opened": _l("registration opened"),
    "registration_closed": _l("registration closed"),
    "item_status_changed": _l("agenda item's status changed"),
    "item_added": _l("agenda item added"),
    "agenda_reordered": _l("agenda reordered"),
    "sitting_opened": _l("sitting opened"),
    "sitting_closed": _l("sitting closed"),
    "sitting_changed": _l("sitting's place, chair or secretary changed"),
    "deputy_added": _l("deputy added"),
    "deputy_changed": _l("deputy's details changed"),
    "token_created": _l("signed in"),
    "token_revoked": _l("signed out"),
    "card_locked": _l("card locked after wrong PINs"),
    "floor_requested": _l("asked for the floor"),
    "floor_request_withdrawn": _l("request to speak withdrawn"),
    "floor_request_removed": _l("request to speak removed"),
    "speakers_reordered": _l("speaker list reordered"),
    "speaker_list_closed": _l("speaker list closed"),
    "speaker_list_reopened": _l("speaker list reopened"),
    "speech_started": _l("given the floor"),
    "speech_paused": _l("speech paused"),
    "speech_resumed": _l("speech resumed"),
    "speech_time_added": _l("speaking time added"),
    "speech_ended": _l("speech ended"),
    "speech_time_up": _l("speaking time is up"),
    "microphone_switched": _l("microphone switched"),
    "broadcast_started": _l("broadcast started"),
    "faction_time_extended": _l("faction time extended"),
    "speech_recorded": _l("speech recorded"),
    "recording_failed": _l("recording of a speech failed"),
    "console_card_inserted": _l("card put into a seat console"),
    "console_card_removed": _l("card taken out of a seat console"),
    "console_alarm": _l("one card in two seats"),
    "console_alarm_resolved": _l("seat alarm settled"),
    "console_online": _l("seat console answers"),
    "console_offline": _l("seat console not answering"),
    "console_bus_trouble": _l("trouble on the consoles' bus"),
    "journal_keyed": _l("earlier journal entries authenticated with the key"),
    "vote_interrupted": _l("vote interrupted: the server had stopped"),
    "vote_continued": _l("interrupted vote continued"),
    "registration_interrupted": _l("registration interrupted: the server had stopped"),
    "registration_continued": _l("interrupted registration continued"),
    "speech_interrupted": _l("speech interrupted: the server had stopped"),
}

#: What a person at a screen is told when the server refuses, by the error's code; the server's
#: own message (English, naming the field) is shown where no translation is given.
ERRORS = {
    "already_registered": _l("You are already registered."),
    "already_voted": _l("Your choice is already recorded."),
    "card_locked": _l(
        "Too many wrong PINs at this terminal: the card is refused here for a few minutes."
    ),
    "forbidden": _l("You may not do this."),
    "interrupted": _l(
        "Interrupted when the server stopped: wait until the secretary continues it."
    ),
    "not_registered": _l("Register first."),
    "quorum_not_met": _l("There is no quorum."),
    "registration_already_open": _l("Registration is already open."),
    "registration_closed": _l("Registration is closed."),
    "revote_limit_reached": _l("This question cannot be put to the vote again."),
    "owner_silent": _l(
        "The server counting this secret ballot did not answer in time: look again, or try again."
    ),
    "secret_ballot_lost": _l(
        "This secret ballot can no longer be counted (the server that held its key stopped): "
        "annul it and hold it again."
    ),
    "sitting_not_open": _l("The sitting is not open."),
    "too_many_attempts": _l("Too many sign-in attempts: wait a minute and try again."),
    "unauthenticated": _l("Sign in again."),
    "vote_already_closed": _l("The vote is already closed."),
    "vote_already_open": _l("A vote is already open."),
    "vote_not_open": _l("The vote is not open."),
    "wrong_credentials": _l("Wrong login, password, card or PIN."),
    "speaker_list_closed": _l("The speaker list is closed."),
    "duplicate_request": _l("You are already in the list for this."),
    "speech_limit_reached": _l("This kind of speech is already used up on this item."),
    "no_one_waiting": _l("No one is waiting for the floor."),
    "no_speaker_yet": _l("No one has finished speaking on this item yet."),
    "request_not_waiting": _l("This request is no longer waiting."),
    "speech_not_live": _l("This speech has already ended."),
    "server_error": _l("The server could not complete this; try again."),
}


def N_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural message for extraction (pybabel -k N_:1,2); translated when shown."""
    return singular, plural


#: Plural messages for the modules: key → (singular, plural) message ids with %(num)d.
PLURALS = {
    "deputies": N_("%(num)d deputy", "%(num)d deputies"),
    "votes": N_("%(num)d vote", "%(num)d votes"),
    "seconds": N_("%(num)d second", "%(num)d seconds"),
    "not_voted_count": N_("%(num)d has not voted", "%(num)d have not voted"),
}


def ui_strings() -> dict[str, object]:
    return {
        "text": {key: str(value) for key, value in STRINGS.items()},
        "errors": {code: str(value) for code, value in ERRORS.items()},
        "events": {kind: str(value) for kind, value in EVENTS.items()},
        "plural": {key: plural_patterns(*forms) for key, forms in PLURALS.items()},
    }
