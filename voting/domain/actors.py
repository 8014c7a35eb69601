"""Who acts: the roles of the people (and the system) who change the record, and the guard that
every use case begins with."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import PermissionDenied


class Role(StrEnum):
    SECRETARY = "secretary"  # секретар ради (and the operator beside them)
    CHAIR = "chair"  # головуючий
    DEPUTY = "deputy"  # депутат (the head too, when they vote)
    SYSTEM = "system"  # the server itself: the vote timer, the CLI's own steps
    # The seat consoles' gateway (`voting consoles`): acts only for the deputy whose card sits
    # in a seat of its map (services/consoles.py).
    CONSOLE_GATEWAY = "console_gateway"


#: Who runs a sitting's procedure: registration, votes, the agenda's course.
PROCEDURE = (Role.SECRETARY, Role.CHAIR)
#: The roles a person may sign in with (the system never signs in).
PERSON_ROLES = (Role.SECRETARY, Role.CHAIR, Role.DEPUTY)


@dataclass(frozen=True)
class Actor:
    """Who acts: a role, the deputy they are (for deputies), and a label for the journal."""

    role: Role
    label: str
    deputy_id: int | None = None

    def __post_init__(self) -> None:
        # A role given as text ("secretary") becomes the enum; an unknown one is refused.
        object.__setattr__(self, "role", Role(self.role))

    def require(self, *roles: Role) -> None:
        """Guard: refuse the action unless the actor has one of `roles`."""
        if self.role not in roles:
            raise PermissionDenied(
                f"this action needs the role {' or '.join(roles)}; you act as {self.role}"
            )

    @property
    def is_staff(self) -> bool:
        """The secretary or the chair: they see what the protocol holds."""
        return self.role in PROCEDURE


SYSTEM = Actor(Role.SYSTEM, "system")
