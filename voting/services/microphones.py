"""The microphones as a port: what the floor's use cases switch, whatever hardware does it.

The use cases record each switch as a `microphone_switched` journal entry (services/floor.py);
a `MicrophoneDriver` follows those events on the bus, after commit, and tells its port. The
demo and the tests use the simulated microphones (voting/adapters/microphones.py); the seat
consoles' gateway (hardware/) provides the port of the hall's consoles.
"""

from __future__ import annotations

from typing import Protocol

from voting.domain.events import DomainEvent


class MicrophonePort(Protocol):
    """Switches the hall's microphones: "chair", "tribune", "deputy:<id>"."""

    def switch(self, name: str, on: bool) -> None: ...

    def which_on(self) -> set[str]: ...


class MicrophoneDriver:
    """A bus subscriber that switches its port's microphones as the journal records them."""

    def __init__(self, port: MicrophonePort) -> None:
        self.port = port

    def __call__(self, event: DomainEvent) -> None:
        if event.kind != "microphone_switched":
            return
        name, on = event.payload.get("microphone"), event.payload.get("on")
        if isinstance(name, str) and isinstance(on, bool):
            self.port.switch(name, on)
