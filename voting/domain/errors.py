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
    """The counters of an open secret ballot did not survive a database crash: they are kept out
    of PostgreSQL's write-ahead log (docs/secret-ballot.md), so a crash of the database server
    empties them."""

    code = "secret_ballot_lost"

    def __init__(self) -> None:
        super().__init__(
            "the counters of this secret ballot were lost when the database server crashed, "
            "so it cannot be counted; the secretary must annul it and hold it again"
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
