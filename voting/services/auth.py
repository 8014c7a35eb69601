"""Use cases for people who log in: users with passwords and bearer tokens for the API."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select

from voting.adapters import orm
from voting.domain.errors import DomainError, InvalidInput, PermissionDenied

from . import validate
from .uow import Actor, UnitOfWork

ROLES = ("secretary", "chair", "deputy")


class TokenAlreadyRevoked(DomainError):
    code = "token_already_revoked"

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role_and_deputy(uow: UnitOfWork, role: object, deputy_id: object) -> tuple[str, int | None]:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}; got {role!r}", field="role")
    if role == "deputy":
        deputy = uow.get(orm.Deputy, deputy_id, "deputy")
        assert isinstance(deputy, orm.Deputy)
        if not deputy.active:
            raise InvalidInput(f"deputy {deputy.id} is not active", field="deputy_id")
        return str(role), deputy.id
    if deputy_id is not None:
        raise InvalidInput("only a deputy account is tied to a deputy", field="deputy_id")
    return str(role), None


def add_user(uow: UnitOfWork, actor: Actor, username: object, password: object, role: object,
             deputy_id: object = None) -> int:
    """Create a login; a deputy's login acts only as that deputy."""
    actor.require("secretary", "system")
    name = validate.text(username, "username", limit=80)
    secret = validate.text(password, "password", limit=200)
    assert name is not None and secret is not None
    if len(secret) < 8:
        raise InvalidInput("the password must have at least 8 characters", field="password")
    with uow:
        role_name, deputy = _role_and_deputy(uow, role, deputy_id)
        if uow.session.scalars(select(orm.User).where(orm.User.username == name)).first():
            raise InvalidInput(f"the user {name!r} already exists", field="username")
        user = orm.User(username=name, password_hash=hash_password(secret), role=role_name,
                        deputy_id=deputy)
        uow.session.add(user)
        uow.session.flush()
        uow.journal(actor, "user_added", {"user_id": user.id, "username": name, "role": role_name,
                                          "deputy_id": deputy})
        uow.commit()
        return user.id


def authenticate(uow: UnitOfWork, username: str, password: str) -> Actor:
    """The actor for a username and password, or PermissionDenied."""
    with uow:
        user = uow.session.scalars(select(orm.User).where(orm.User.username == username)).first()
        if user is None or not check_password(password, user.password_hash):
            raise PermissionDenied("wrong username or password")
        return Actor(user.role, f"{user.role}:{user.username}", user.deputy_id)


def create_token(uow: UnitOfWork, actor: Actor, role: object, deputy_id: object = None,
                 label: object = None) -> str:
    """Issue a bearer token; it is shown once, only its hash is kept."""
    actor.require("secretary", "system")
    with uow:
        role_name, deputy = _role_and_deputy(uow, role, deputy_id)
        name = validate.text(label, "label", limit=200, required=False) or (
            f"{role_name}" if deputy is None else f"deputy {deputy}")
        token = secrets.token_urlsafe(32)
        row = orm.ApiToken(token_hash=token_digest(token), role=role_name, deputy_id=deputy,
                           label=name, created_at=uow.now())
        uow.session.add(row)
        uow.session.flush()
        uow.journal(actor, "token_created", {"token_id": row.id, "role": role_name,
                                             "deputy_id": deputy, "label": name})
        uow.commit()
        return token


def actor_for_token(uow: UnitOfWork, token: str) -> Actor:
    """The actor a bearer token stands for, or PermissionDenied."""
    with uow:
        row = uow.session.scalars(select(orm.ApiToken).where(
            orm.ApiToken.token_hash == token_digest(token))).first()
        if row is None or row.revoked_at is not None:
            raise PermissionDenied("unknown or revoked token")
        label = f"{row.role}:token{row.id}" if row.deputy_id is None else (
            f"deputy:{row.deputy_id}")
        return Actor(row.role, label, row.deputy_id)


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def list_tokens(uow: UnitOfWork, actor: Actor) -> list[dict[str, object]]:
    """Every token issued, oldest first: id, role, deputy, label, created and revoked times.

    The token itself is never kept (only its hash), and the hash is not shown either.
    """
    actor.require("secretary", "system")
    with uow:
        rows = uow.session.scalars(select(orm.ApiToken).order_by(orm.ApiToken.id))
        return [{"id": row.id, "role": row.role, "deputy_id": row.deputy_id, "label": row.label,
                 "created_at": _when(row.created_at), "revoked_at": _when(row.revoked_at)}
                for row in rows]


def revoke_token(uow: UnitOfWork, actor: Actor, token_id: object) -> dict[str, object]:
    """Revoke a token: from now on it gets 401. Returns its id and the revocation time."""
    actor.require("secretary", "system")
    with uow:
        row = uow.get(orm.ApiToken, token_id, "token")
        assert isinstance(row, orm.ApiToken)
        if row.revoked_at is not None:
            raise TokenAlreadyRevoked(
                f"token {row.id} was already revoked at {_when(row.revoked_at)}")
        row.revoked_at = now = uow.now()
        result = {"id": row.id, "revoked_at": _when(now)}
        uow.journal(actor, "token_revoked", {"token_id": row.id})
        uow.commit()
        return result
