"""Use cases for people who log in: users with passwords and bearer tokens for the API, and
deputies who sign in at a terminal with their card and a PIN.

Signing in (`login`, `login_with_card`) issues a bearer token that expires after
`LOGIN_TOKEN_LIFETIME`; `logout` revokes it. A PIN is short, so failed PIN attempts are counted
per card and source address (a terminal) in the database: after `PIN_ATTEMPTS` failures from one
address the card is refused there for `PIN_LOCK`, and still works from every other address (so
whoever knows a card's UID cannot lock its deputy out). The count lives in the database, not in
memory, because the API runs in many threads and may run in several processes or be restarted:
a counter in one process's memory could be reset by a restart or sidestepped by spreading
guesses over processes, while the deputy's row is shared by all of them and its row lock
(SQLite: the write lock) makes check-and-count atomic. Passwords and PINs are hashed (scrypt)
off the server's event loop, one at a time, so a flood of sign-ins cannot stall the casts; the
web door also limits attempts per address (web/throttle.py).
Neither a password nor a PIN nor a token is ever logged or journaled; only their hashes are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import delete, select

from voting.adapters import orm
from voting.domain.actors import PERSON_ROLES, Actor, Role
from voting.domain.errors import DomainError, InvalidInput, PermissionDenied

from . import validate
from .commands import (
    CreateToken,
    SignIn,
    SignInWithCard,
    normal_card_uid,
    person_role,
    pin_value,
)
from .council import card_uid_is
from .uow import UnitOfWork, direct

ROLES = tuple(role.value for role in PERSON_ROLES)


class TokenAlreadyRevoked(DomainError):
    code = "token_already_revoked"


class WrongCredentials(DomainError):
    """Sign-in refused; the message never says which of the two things given was wrong."""

    code = "wrong_credentials"
    status = 401


class CardLocked(DomainError):
    """Too many wrong PINs for one card from one terminal: refused there until `locked_until`
    (in the details)."""

    code = "card_locked"
    status = 429


#: How long a token issued at sign-in works (tokens made by the secretary or the CLI do not expire).
LOGIN_TOKEN_LIFETIME = timedelta(hours=12)
#: Failed PIN attempts for one card from one source before it is refused there, and how long
#: (config.toml [sign_in] pin_attempts and pin_lock_minutes).
PIN_ATTEMPTS = 5
PIN_LOCK = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class PinPolicy:
    """How many wrong PINs from one source lock a card there, and for how long."""

    attempts: int = PIN_ATTEMPTS
    lock: timedelta = PIN_LOCK


#: Who the journal names when a card is locked: the system, guarding against PIN guessing.
SYSTEM_GUARD = Actor(Role.SYSTEM, "system:sign-in")

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


#: One password or PIN hash at a time: a flood of sign-ins waits here (cooperatively, under
#: gevent) rather than taking every core from the casts.
_HASHING = threading.BoundedSemaphore(1)


def _scrypt(secret: str, salt: bytes, run: Callable[..., bytes] = direct) -> bytes:
    """scrypt (about 60 ms of CPU and 16 MB of memory), off the server's event loop, one at a
    time, at the lowest CPU priority, and then a pause as long as it took before the next one:
    a flood of sign-ins gets at most half a core, and its memory traffic at most half the time
    (which no CPU priority keeps from slowing the other cores)."""
    with _HASHING:
        started = time.monotonic()
        digest = run(partial(hashlib.scrypt, secret.encode(), salt=salt, **_SCRYPT))
        time.sleep(time.monotonic() - started)  # cooperative under gevent
        return digest


def hash_password(password: str, run: Callable[..., bytes] = direct) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, run)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str, run: Callable[..., bytes] = direct) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    try:
        salt_bytes = bytes.fromhex(salt)
    except ValueError:
        return False
    candidate = _scrypt(password, salt_bytes, run)
    return hmac.compare_digest(candidate.hex(), digest)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: The decoy hash, made once (`_decoy_hash`), and the lock that makes it once.
_DECOY: list[str] = []
_DECOY_LOCK = threading.Lock()


def _decoy_hash(run: Callable[..., bytes] = direct) -> str:
    """A hash no one knows the secret of: checked against when there is no real one, so an
    unknown username or card takes as long to refuse as a wrong password or PIN. Made on first
    use, once, the way every hash is made (`run`: off the server's event loop): the requests
    that ask meanwhile wait for it (cooperatively under gevent) rather than each making one of
    their own on the loop."""
    with _DECOY_LOCK:
        if not _DECOY:
            _DECOY.append(hash_password(secrets.token_urlsafe(16), run))
        return _DECOY[0]


def _role_and_deputy(uow: UnitOfWork, role: object, deputy_id: object) -> tuple[Role, int | None]:
    person = person_role(role)
    if person is Role.DEPUTY:
        deputy = uow.get(orm.Deputy, deputy_id, "deputy")
        if not deputy.active:
            raise InvalidInput(f"deputy {deputy.id} is not active", field="deputy_id")
        return Role.DEPUTY, deputy.id
    if deputy_id is not None:
        raise InvalidInput("only a deputy account is tied to a deputy", field="deputy_id")
    return person, None


def add_user(
    uow: UnitOfWork,
    actor: Actor,
    username: object,
    password: object,
    role: object,
    deputy_id: object = None,
) -> int:
    """Create a login; a deputy's login acts only as that deputy."""
    actor.require(Role.SECRETARY, Role.SYSTEM)
    name = validate.text(username, "username", limit=80)
    secret = validate.text(password, "password", limit=200)
    assert name is not None and secret is not None
    if len(secret) < 8:
        raise InvalidInput("the password must have at least 8 characters", field="password")
    with uow:
        role_name, deputy = _role_and_deputy(uow, role, deputy_id)
        if uow.session.scalars(select(orm.User).where(orm.User.username == name)).first():
            raise InvalidInput(f"the user {name!r} already exists", field="username")
        user = orm.User(
            username=name,
            password_hash=hash_password(secret, uow.offload),
            role=role_name,
            deputy_id=deputy,
        )
        uow.session.add(user)
        uow.session.flush()
        uow.journal(
            actor,
            "user_added",
            {"user_id": user.id, "username": name, "role": role_name, "deputy_id": deputy},
        )
        uow.commit()
        return user.id


def authenticate(uow: UnitOfWork, username: str, password: str) -> Actor:
    """The actor for a username and password, or PermissionDenied."""
    with uow:
        user = uow.session.scalars(select(orm.User).where(orm.User.username == username)).first()
        if user is None or not check_password(password, user.password_hash, uow.offload):
            raise PermissionDenied("wrong username or password")
        return Actor(Role(user.role), f"{user.role}:{user.username}", user.deputy_id)


def create_token(uow: UnitOfWork, actor: Actor, command: CreateToken) -> str:
    """Issue a bearer token; it is shown once, only its hash is kept."""
    command.authorize(actor)
    with uow:
        role_name, deputy = _role_and_deputy(uow, command.role, command.deputy_id)
        name = command.label or (f"{role_name}" if deputy is None else f"deputy {deputy}")
        token = secrets.token_urlsafe(32)
        row = orm.ApiToken(
            token_hash=token_digest(token),
            role=role_name,
            deputy_id=deputy,
            label=name,
            created_at=uow.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        uow.journal(
            actor,
            "token_created",
            {"token_id": row.id, "role": role_name, "deputy_id": deputy, "label": name},
        )
        uow.commit()
        return token


def actor_for_token(uow: UnitOfWork, token: str) -> Actor:
    """The actor a bearer token stands for, or PermissionDenied."""
    return token_holder(uow, token).actor


@dataclass(frozen=True)
class TokenHolder:
    """Who a token stands for, and until when (None: until it is revoked)."""

    actor: Actor
    expires_at: datetime | None

    def ensure_unexpired(self, now: datetime) -> None:
        """PermissionDenied once the token has expired (a holder kept past its lookup)."""
        if _expired(self.expires_at, now):
            raise PermissionDenied(f"the token expired at {_when(self.expires_at)}; sign in again")


def token_holder(uow: UnitOfWork, token: str) -> TokenHolder:
    """Who a bearer token stands for and until when, or PermissionDenied (unknown, revoked or
    expired)."""
    with uow:
        row = uow.session.scalars(
            select(orm.ApiToken).where(orm.ApiToken.token_hash == token_digest(token))
        ).first()
        if row is None or row.revoked_at is not None:
            raise PermissionDenied("unknown or revoked token")
        label = (
            f"{row.role}:token{row.id}" if row.deputy_id is None else (f"deputy:{row.deputy_id}")
        )
        holder = TokenHolder(Actor(Role(row.role), label, row.deputy_id), row.expires_at)
        holder.ensure_unexpired(uow.now())
        return holder


#: Hashes per statement when many tokens are checked at once (well under SQLite's variable limit).
_TOKENS_PER_READ = 500


def invalid_tokens(uow: UnitOfWork, tokens: Iterable[str]) -> set[str]:
    """Of `tokens`, those that no longer hold (unknown, revoked or expired), read at once: what a
    server holding many connections checks now and then, instead of one lookup per connection."""
    by_hash = {token_digest(token): token for token in set(tokens)}
    hashes = list(by_hash)
    valid: set[str] = set()
    with uow:
        now = uow.now()
        for start in range(0, len(hashes), _TOKENS_PER_READ):
            rows = uow.session.execute(
                select(orm.ApiToken.token_hash, orm.ApiToken.expires_at).where(
                    orm.ApiToken.token_hash.in_(hashes[start : start + _TOKENS_PER_READ]),
                    orm.ApiToken.revoked_at.is_(None),
                )
            )
            valid.update(
                by_hash[row.token_hash] for row in rows if not _expired(row.expires_at, now)
            )
    return set(by_hash.values()) - valid


def _expired(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at <= now


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def list_tokens(uow: UnitOfWork, actor: Actor) -> list[dict[str, object]]:
    """Every token issued, oldest first: id, role, deputy, label, created, revoked and expiry
    times (tokens issued at sign-in expire; the others have no expiry).

    The token itself is never kept (only its hash), and the hash is not shown either.
    """
    actor.require(Role.SECRETARY, Role.SYSTEM)
    with uow:
        rows = uow.session.scalars(select(orm.ApiToken).order_by(orm.ApiToken.id))
        return [
            {
                "id": row.id,
                "role": row.role,
                "deputy_id": row.deputy_id,
                "label": row.label,
                "created_at": _when(row.created_at),
                "revoked_at": _when(row.revoked_at),
                "expires_at": _when(row.expires_at),
            }
            for row in rows
        ]


def revoke_token(uow: UnitOfWork, actor: Actor, token_id: object) -> dict[str, object]:
    """Revoke a token: from now on it gets 401. Returns its id and the revocation time."""
    actor.require(Role.SECRETARY, Role.SYSTEM)
    with uow:
        row = uow.get(orm.ApiToken, token_id, "token")
        if row.revoked_at is not None:
            raise TokenAlreadyRevoked(
                f"token {row.id} was already revoked at {_when(row.revoked_at)}"
            )
        row.revoked_at = now = uow.now()
        result: dict[str, object] = {"id": row.id, "revoked_at": _when(now)}
        uow.journal(actor, "token_revoked", {"token_id": row.id})
        uow.commit()
        return result


# --- signing in and out -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    """A token issued at sign-in; the token is shown once, only its hash is kept."""

    token: str
    role: str
    deputy_id: int | None
    expires_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "token": self.token,
            "role": self.role,
            "deputy_id": self.deputy_id,
            "expires_at": _when(self.expires_at),
        }


def _issue_login_token(
    uow: UnitOfWork, actor: Actor, label: str, via: str, lifetime: timedelta
) -> SignedIn:
    """Inside an open unit of work: a token for `actor` that expires, journaled like any token."""
    token = secrets.token_urlsafe(32)
    expires_at = uow.now() + lifetime
    row = orm.ApiToken(
        token_hash=token_digest(token),
        role=actor.role,
        deputy_id=actor.deputy_id,
        label=label,
        created_at=uow.now(),
        expires_at=expires_at,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.journal(
        actor,
        "token_created",
        {
            "token_id": row.id,
            "role": actor.role,
            "deputy_id": actor.deputy_id,
            "label": label,
            "via": via,
            "expires_at": _when(expires_at),
        },
    )
    return SignedIn(token, actor.role, actor.deputy_id, expires_at)


WRONG_LOGIN = "wrong username or password"
WRONG_CARD = "wrong card or PIN"


def login(uow: UnitOfWork, command: SignIn, lifetime: timedelta = LOGIN_TOKEN_LIFETIME) -> SignedIn:
    """Sign in with a username and password: a token that expires, or WrongCredentials."""
    name, secret = command.username, command.password
    with uow:  # read, then check the password outside any transaction (scrypt takes a while)
        user = uow.session.scalars(select(orm.User).where(orm.User.username == name)).first()
        seen = None if user is None else (user.id, user.password_hash)
    stored = _decoy_hash(uow.offload) if seen is None else seen[1]
    if not check_password(secret, stored, uow.offload) or seen is None:
        raise WrongCredentials(WRONG_LOGIN)
    with uow:
        user = uow.session.get(orm.User, seen[0])
        if user is None or user.password_hash != seen[1]:  # removed or changed meanwhile
            raise WrongCredentials(WRONG_LOGIN)
        if user.deputy_id is not None:
            deputy = uow.session.get(orm.Deputy, user.deputy_id)
            if deputy is None or not deputy.active:
                raise WrongCredentials(WRONG_LOGIN)
        actor = Actor(Role(user.role), f"{user.role}:{user.username}", user.deputy_id)
        signed_in = _issue_login_token(uow, actor, f"login: {user.username}", "password", lifetime)
        uow.commit()
        return signed_in


def _locked(lock: orm.PinLock | None, now: datetime) -> CardLocked | None:
    until = None if lock is None else lock.locked_until
    if until is None or until <= now:
        return None
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return CardLocked(
        f"too many wrong PINs for this card from this terminal: it is refused here until "
        f"{_when(until)} (for {seconds} more seconds)",
        locked_until=_when(until),
        retry_after=seconds,
    )


def login_with_card(
    uow: UnitOfWork,
    command: SignInWithCard,
    lifetime: timedelta = LOGIN_TOKEN_LIFETIME,
    source: str = "",
    pins: PinPolicy = PinPolicy(),
) -> SignedIn:
    """A deputy signs in at a terminal with their card's UID and their PIN; `source` is the
    terminal's address (the HTTP door's remote address).

    Wrong card or PIN: WrongCredentials. After `pins.attempts` wrong PINs from one source the
    card is refused at that source for `pins.lock` (CardLocked, also for the right PIN), and
    still works from any other: whoever knows a card's UID can shut out only their own address.
    The PIN is checked outside any transaction; the verdict is then recorded with the deputy's
    row locked, where a lock set meanwhile by a concurrent attempt wins, so no more than
    `pins.attempts` guesses from one source are ever answered per lock.
    """
    uid, code, source = command.card_uid, command.pin, source[:100]
    with uow:
        deputy = uow.session.scalars(select(orm.Deputy).where(card_uid_is(uid))).first()
        if deputy is not None:
            lock = uow.session.get(orm.PinLock, (deputy.id, source))
            if (refusal := _locked(lock, uow.now())) is not None:
                raise refusal
        seen = None if deputy is None else (deputy.id, deputy.pin_hash)
    stored = None if seen is None else seen[1]
    checked = stored or _decoy_hash(uow.offload)
    right = check_password(code, checked, uow.offload) and stored is not None
    if seen is None or stored is None:
        raise WrongCredentials(WRONG_CARD)
    with uow:
        deputy = uow.session.scalars(
            select(orm.Deputy)
            .where(orm.Deputy.id == seen[0])
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if (
            deputy is None
            or normal_card_uid(deputy.card_uid or "") != uid
            or deputy.pin_hash != stored
        ):
            raise WrongCredentials(WRONG_CARD)  # the card or PIN changed meanwhile
        now = uow.now()
        lock = uow.session.scalars(
            select(orm.PinLock)
            .where(orm.PinLock.deputy_id == deputy.id, orm.PinLock.source == source)
            .execution_options(populate_existing=True)
        ).first()
        if (refusal := _locked(lock, now)) is not None:
            raise refusal
        if not right:
            if lock is None:
                lock = orm.PinLock(deputy_id=deputy.id, source=source, failures=0)
                uow.session.add(lock)
            lock.failures += 1
            if lock.failures < pins.attempts:
                uow.commit()
                raise WrongCredentials(WRONG_CARD)
            lock.failures = 0
            lock.locked_until = now + pins.lock
            uow.journal(
                SYSTEM_GUARD,
                "card_locked",
                {
                    "deputy_id": deputy.id,
                    "source": source,
                    "failed_attempts": pins.attempts,
                    "locked_until": _when(lock.locked_until),
                },
            )
            refusal = _locked(lock, now)
            assert refusal is not None
            uow.commit()
            raise refusal
        if not deputy.active:
            raise WrongCredentials(WRONG_CARD)
        if lock is not None:
            uow.session.delete(lock)
        actor = Actor(Role.DEPUTY, f"deputy:{deputy.id}", deputy.id)
        signed_in = _issue_login_token(uow, actor, f"card: deputy {deputy.id}", "card", lifetime)
        uow.commit()
        return signed_in


def logout(uow: UnitOfWork, actor: Actor, token: str) -> dict[str, object]:
    """Revoke the token the caller presents (their own): from now on it gets 401."""
    with uow:
        row = uow.session.scalars(
            select(orm.ApiToken).where(orm.ApiToken.token_hash == token_digest(token))
        ).first()
        if row is None or row.revoked_at is not None:
            raise PermissionDenied("unknown or revoked token")
        row.revoked_at = now = uow.now()
        uow.journal(actor, "token_revoked", {"token_id": row.id, "reason": "logout"})
        uow.commit()
        return {"revoked_at": _when(now)}


def set_deputy_pin(uow: UnitOfWork, actor: Actor, deputy_id: object, pin: object) -> None:
    """Give a deputy a new PIN (the secretary); it also lifts a lock on their card.

    Only its scrypt hash is stored; the journal says only that the PIN changed.
    """
    actor.require(Role.SECRETARY, Role.SYSTEM)
    code = pin_value(pin)
    digest = hash_password(code, uow.offload)
    with uow:
        deputy = uow.get(orm.Deputy, deputy_id, "deputy")
        deputy.pin_hash = digest
        uow.session.execute(delete(orm.PinLock).where(orm.PinLock.deputy_id == deputy.id))
        uow.journal(actor, "pin_changed", {"deputy_id": deputy.id})
        uow.commit()


def deputies_with_pin(uow: UnitOfWork) -> set[int]:
    """The ids of the deputies who have a PIN (never the PINs or their hashes)."""
    with uow:
        return set(
            uow.session.scalars(select(orm.Deputy.id).where(orm.Deputy.pin_hash.is_not(None)))
        )
