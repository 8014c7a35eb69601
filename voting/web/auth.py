"""Who is calling: a bearer token (API) resolved to an actor; public reads need none."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request

from voting.domain.actors import Actor
from voting.domain.errors import PermissionDenied
from voting.services import auth as auth_service
from voting.services.commands import Command


class Unauthenticated(PermissionDenied):
    code = "unauthenticated"
    status = 401


def current_actor(required: bool = True) -> Actor | None:
    """The actor of this request from its Authorization header (cached per request)."""
    if "actor" in g:
        return g.actor
    header = request.headers.get("Authorization", "")
    actor = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated('the Authorization header must be "Bearer <token>"')
        try:
            actor = auth_service.actor_for_token(
                current_app.extensions["voting.runtime"].reader(), token.strip()
            )
        except PermissionDenied as error:
            raise Unauthenticated(error.message) from None
    if actor is None and required:
        raise Unauthenticated('sign in: send "Authorization: Bearer <token>"')
    g.actor = actor
    return actor


def presented_token() -> str:
    """The bearer token of this request (after current_actor has accepted it)."""
    current_actor(required=True)
    return request.headers["Authorization"].partition(" ")[2].strip()


def require_actor(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view needs an authenticated actor; the service checks the role."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        current_actor(required=True)
        return view(*args, **kwargs)

    return wrapped


def requires(command: type[Command]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view sends `command`: its actor is authenticated and their role checked before the
    view reads the body (the service checks the role again)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor(required=True)
            assert actor is not None
            command.authorize(actor)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def is_staff(actor: Actor | None) -> bool:
    return actor is not None and actor.is_staff
