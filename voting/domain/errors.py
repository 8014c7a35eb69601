"""Named domain errors; each door maps them (HTTP 4xx JSON, Socket.IO error ack, console NAK)."""

from __future__ import annotations


class DomainError(Exception):
    """A request that the rules refuse; nothing was changed."""

    code = "domain_error"
    status = 409

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"
    status = 404


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class NoOpenRegistration(DomainError):
    code = "registration_closed"


class RegistrationAlreadyOpen(DomainError):
    code = "registration_already_open"


class NotRegistered(DomainError):
    code = "not_registered"


class AlreadyRegistered(DomainError):
    code = "already_registered"


class QuorumNotMet(DomainError):
    code = "quorum_not_met"


class VoteAlreadyOpen(DomainError):
    code = "vote_already_open"


class VoteNotOpen(DomainError):
    code = "vote_not_open"


class VoteAlreadyClosed(DomainError):
    code = "vote_already_closed"


class AlreadyVoted(DomainError):
    code = "already_voted"


class RevoteLimitReached(DomainError):
    code = "revote_limit_reached"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class SecretCountersLost(DomainError):
    """An open secret ballot that can no longer be counted: the server process that held its key
    (in memory only, docs/secret-ballot.md) stopped before the close, or its sealed ballots do
    not match those who took part."""

    code = "secret_ballot_lost"

    def __init__(self, why: str | None = None) -> None:
        super().__init__(
            (
                why
                or "the server process that held this secret ballot's key stopped before the "
                "close, and the key went with it"
            )
            + ", so it cannot be counted; the secretary must annul it and hold it again"
        )


class OwnerSilent(DomainError):
    """A secret ballot's close handed to the server process that holds its key, which did not
    count it in time."""

    code = "owner_silent"
    status = 503

    def __init__(self, vote_id: int, owner: int | None) -> None:
        super().__init__(
            f"the server process that counts secret ballot {vote_id} (server process {owner}) "
            "did not close it in time; it may still do so: look again, or try again",
            vote_id=vote_id,
        )


class Interrupted(DomainError):
    """The servers stopped while this was open (a crash, a restart): it waits for the secretary to
    continue, close or annul it, and nothing is recorded in it meanwhile."""

    code = "interrupted"


class SittingNotOpen(DomainError):
    code = "sitting_not_open"


class SpeakerListClosed(DomainError):
    code = "speaker_list_closed"


class DuplicateRequest(DomainError):
    code = "duplicate_request"


class SpeechLimitReached(DomainError):
    code = "speech_limit_reached"


class NoOneWaiting(DomainError):
    code = "no_one_waiting"


class RequestNotWaiting(DomainError):
    code = "request_not_waiting"


class SpeechNotLive(DomainError):
    code = "speech_not_live"


class NoSpeakerYet(DomainError):
    code = "no_speaker_yet"
