"""Simulated seat consoles: N consoles on one bus, speaking the wire protocol byte for byte
through a pseudo-terminal, a TCP connection (for pyserial's socket:// URLs) or any open
pyserial-like port. For the demo (`run_simulator`) and for the tests, which script them:
insert a card, press a key, pull a cable, reboot, forge, replay, babble.

A simulated console answers a POLL at once (a real one within 1 ms): HELLO until it has a
session, then its oldest unacknowledged EVENT (the same frame until a POLL acknowledges its
counter), or STATUS. On SESSION it takes the nonce, restarts its counter at 1 and signs its
unacknowledged events anew. On a POLL with IDENTIFY (the master has no session with it, e.g. it
restarted) it drops its session, keeps its unacknowledged events for the next one, ignores the
ack and answers HELLO.

A pty or a socket moves bytes at once, not at a baud rate. With `wire_baud` (for benchmarks; off
by default) the simulator behaves as if every byte took its time on an RS-485 wire at that rate
(10 bits a byte, UART 8N1): the bytes read from the master are taken to have started on the wire
when they were read (or when the wire was free again, if it was still busy), so the POLL's last
byte "arrives" len x 10 / baud later; the console starts its answer the protocol's turnaround
(50 us) after that, and the answer is written only once its own last byte would have reached the
master (answer start + len x 10 / baud). The simulator sleeps for that time (time.sleep, then a
spin of at most WIRE_SPIN on time.perf_counter for the last stretch). What the pty and the
scheduler add comes on top: a paced simulator is never faster than the wire.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import sys
import tempfile
import threading
import time
import tty
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from hardware import protocol
from hardware.keys import derive_key

DEMO_SEED = b"council-voting demo consoles"
IDLE = 0.05  # s: how long the simulator's thread waits for bytes before it looks around
TURNAROUND = 50e-6  # s: a console answers no earlier than this after a POLL's last byte
WIRE_SPIN = 200e-6  # s: with wire_baud, the last stretch before a write is spun, not slept


@dataclass(frozen=True)
class SimulatedConsoleSpec:
    address: int
    serial: bytes
    key: bytes
    firmware: tuple[int, int] = (1, 0)
    hardware: int = 1


def demo_fleet(
    count: int, first_address: int = 1, *, seed: bytes = DEMO_SEED, first_serial: int = 1
) -> list[SimulatedConsoleSpec]:
    """`count` consoles at consecutive addresses, serials b"SIM" + 5-byte index (from
    `first_serial`: give each bus of a demo its own range) and keys derived from `seed`."""
    fleet = []
    for index in range(count):
        serial_number = b"SIM" + (first_serial + index).to_bytes(5, "big")
        fleet.append(
            SimulatedConsoleSpec(
                first_address + index, serial_number, derive_key(seed, serial_number)
            )
        )
    return fleet


@dataclass
class _Pending:
    kind: int
    data: bytes
    counter: int = 0
    frame: bytes = b""


@dataclass
class _Console:
    spec: SimulatedConsoleSpec
    address: int
    nonce: bytes | None = None
    counter: int = 0
    pending: deque[_Pending] = field(default_factory=deque)
    acknowledged: list[tuple[protocol.EventKind, bytes]] = field(default_factory=list)
    acked_frames: list[bytes] = field(default_factory=list)  # this session's, for replays
    card: bytes | None = None
    held: dict[protocol.Key, float] = field(default_factory=dict)
    faults: protocol.Faults = protocol.Faults(0)
    lights: protocol.Lights = protocol.Lights(0)
    text: str = ""
    beeps: int = 0
    last_beep: int = 0
    time_ms: int | None = None
    answering: bool = True
    ignore_ack: bool = False
    ignore_identify: bool = False
    forged: deque[tuple[int, bytes]] = field(default_factory=deque)
    replays: deque[bytes] = field(default_factory=deque)
    babble: int = 0

    @property
    def inputs(self) -> protocol.Inputs:
        inputs = protocol.Inputs.CARD if self.card is not None else protocol.Inputs(0)
        for key in self.held:
            inputs |= protocol.Inputs(1 << key)  # FOR_HELD = 0x02 … SPEAK_HELD = 0x10
        return inputs

    def add_event(self, kind: protocol.EventKind, data: bytes) -> None:
        pending = _Pending(int(kind), bytes(data))
        if self.nonce is not None:
            self._sign(pending)
        self.pending.append(pending)

    def _sign(self, pending: _Pending) -> None:
        assert self.nonce is not None
        self.counter += 1
        pending.counter = self.counter
        event = protocol.sign_event(
            self.spec.key, self.nonce, self.address, self.counter, pending.kind, pending.data
        )
        pending.frame = protocol.encode(event)

    def start_session(self, nonce: bytes) -> None:
        self.nonce, self.counter = nonce, 0
        self.acked_frames.clear()
        for pending in self.pending:
            self._sign(pending)

    def lose_session(self) -> None:
        self.nonce, self.counter = None, 0
        self.acked_frames.clear()
        for pending in self.pending:
            pending.counter, pending.frame = 0, b""

    def answer(self, poll: protocol.Poll) -> bytes | None:
        if not self.answering:
            return None
        self.lights = poll.lights
        if poll.beep != self.last_beep:
            self.beeps += 1
            self.last_beep = poll.beep
        if self.babble:
            junk = bytes((n % 255) + 1 for n in range(self.babble))  # never a delimiter
            self.babble = 0
            return junk
        identify = poll.identify
        if identify and self.ignore_identify:
            self.ignore_identify, identify = False, False
        if identify:
            self.lose_session()  # the master knows no session of ours: the ack means nothing
        if self.nonce is None:
            hello = protocol.Hello(
                self.address, self.spec.serial, self.spec.firmware, self.spec.hardware
            )
            return protocol.encode(hello)
        if self.pending and self.pending[0].counter & 0xFF == poll.ack:
            if self.ignore_ack:
                self.ignore_ack = False
            else:
                done = self.pending.popleft()
                self.acknowledged.append((protocol.EventKind(done.kind), done.data))
                self.acked_frames.append(done.frame)
        if self.replays:
            return self.replays.popleft()
        if self.forged:
            kind, data = self.forged.popleft()
            wrong = bytes(b ^ 0x5A for b in self.spec.key)
            event = protocol.sign_event(
                wrong, self.nonce, self.address, self.counter + 1, kind, data
            )
            return protocol.encode(event)
        if self.pending:
            return self.pending[0].frame
        return protocol.encode(protocol.Status(self.address, self.inputs, self.faults))


class _Endpoint(Protocol):
    def read(self) -> bytes: ...  # what arrived within IDLE seconds; OSError when gone
    def write(self, data: bytes) -> None: ...


class _FdEndpoint:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], IDLE)
        return os.read(self.fd, 4096) if ready else b""

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]


class _SocketEndpoint:
    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection

    def read(self) -> bytes:
        ready, _, _ = select.select([self.connection], [], [], IDLE)
        if not ready:
            return b""
        data = self.connection.recv(4096)
        if not data:
            raise ConnectionResetError("the bus master closed the connection")
        return data

    def write(self, data: bytes) -> None:
        self.connection.sendall(data)


class _PortEndpoint:
    def __init__(self, port: Any) -> None:
        self.port = port
        port.timeout = IDLE

    def read(self) -> bytes:
        return bytes(self.port.read(self.port.in_waiting or 1))

    def write(self, data: bytes) -> None:
        self.port.write(data)


class _WirePacer:
    """The wire's time at `baud` (module docstring): when the bytes read so far end on the wire,
    and how long to hold an answer back."""

    def __init__(self, baud: int) -> None:
        self.byte_time = 10 / baud  # s: start bit, 8 data bits, stop bit
        self.free_at = 0.0  # perf_counter: when the last byte read (or written) ends on the wire

    def received(self, count: int, at: float) -> None:
        self.free_at = max(at, self.free_at) + count * self.byte_time

    def hold(self, count: int) -> None:
        """Returns when an answer of `count` bytes, started TURNAROUND after the last byte
        received, would have reached the master in full."""
        due = self.free_at + TURNAROUND + count * self.byte_time
        self.free_at = due
        remaining = due - time.perf_counter()
        if remaining > WIRE_SPIN:
            time.sleep(remaining - WIRE_SPIN)
        while time.perf_counter() < due:
            pass


class ConsoleSimulator:
    """Simulated consoles on one bus. Serve it with one of attach(), open_pty(), serve_tcp();
    close() (or leaving a `with` block) stops it. Every method is thread-safe; `address` is a
    console's current address. `wire_baud` (default None: answer at once) paces the answers as
    if the bytes crossed an RS-485 wire at that rate (the module's docstring)."""

    def __init__(
        self, consoles: Iterable[SimulatedConsoleSpec], *, wire_baud: int | None = None
    ) -> None:
        if wire_baud is not None and wire_baud <= 0:
            raise ValueError(f"wire_baud must be positive, got {wire_baud}")
        self.wire_baud = wire_baud
        self._consoles = [_Console(spec, spec.address) for spec in consoles]
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._garbage = bytearray()
        self._mute = False  # unplug() where the simulator does not own the port
        self._want_plugged = True
        self._plugged = False
        self._endpoint: _Endpoint | None = None
        # pty mode
        self._link_dir: str | None = None
        self._pty: tuple[int, int] | None = None
        # tcp mode
        self._address: tuple[str, int] | None = None
        self._server: socket.socket | None = None
        self._connection: socket.socket | None = None
        self._attached: Any = None

    # ------------------------------------------------------------------ serving

    def attach(self, port: Any) -> None:
        """Serves on an open pyserial-like port (read/write/in_waiting/timeout); the caller
        closes it after close()."""
        self._attached = port
        self._start(self._serve_port)

    def open_pty(self) -> str:
        """Serves on a new pseudo-terminal; the path for the bus master to open (a symbolic
        link to the slave, which unplug()/plug() point at a new pty)."""
        self._link_dir = tempfile.mkdtemp(prefix="console-sim-")
        self._make_pty()
        self._start(self._serve_pty)
        return self.pty_path

    @property
    def pty_path(self) -> str:
        if self._link_dir is None:
            raise RuntimeError("not serving a pty")
        return str(Path(self._link_dir) / "bus")

    def serve_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listens on host:port (0: any free port), one bus master connection at a time; the
        address listened on (`socket://host:port` for the master)."""
        self._listen(host, port)
        self._start(self._serve_tcp)
        assert self._address is not None
        return self._address

    def close(self) -> None:
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2.0)
        self._close_pty()
        self._close_tcp(listening_too=True)
        if self._link_dir is not None:
            shutil.rmtree(self._link_dir, ignore_errors=True)
            self._link_dir = None

    def __enter__(self) -> ConsoleSimulator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def unplug(self) -> None:
        """The whole port vanishes: a pty is closed (the master's reads and writes fail with
        EIO), a TCP connection and listener are closed; an attached port goes silent."""
        self._set_plugged(False)

    def plug(self) -> None:
        """The port comes back: at the same pty path (a new pty behind the link), on the same
        TCP port; an attached port speaks again."""
        self._set_plugged(True)

    def _set_plugged(self, plugged: bool) -> None:
        with self._changed:
            self._want_plugged = plugged
            if self._attached is not None or self._thread is None:
                self._mute = not plugged
                return
            if not self._changed.wait_for(lambda: self._plugged == plugged, timeout=2.0):
                raise TimeoutError("the simulator did not follow unplug()/plug()")

    def _start(self, target: Callable[[], None]) -> None:
        if self._thread is not None:
            raise RuntimeError("the simulator is served already")
        self._thread = threading.Thread(target=target, name="console-simulator", daemon=True)
        self._thread.start()

    def _serve_port(self) -> None:
        endpoint = _PortEndpoint(self._attached)
        try:
            self._serve(endpoint, lambda: True)
        except Exception:  # the port failed: an attached simulator ends with it
            return

    def _serve_pty(self) -> None:
        while not self._stopping.is_set():
            if not self._follow_plug(self._make_pty, self._close_pty):
                self._stopping.wait(IDLE)
                continue
            assert self._pty is not None
            try:
                self._serve(_FdEndpoint(self._pty[0]), lambda: self._want_plugged)
            except OSError:
                self._stopping.wait(IDLE)

    def _serve_tcp(self) -> None:
        while not self._stopping.is_set():
            if not self._follow_plug(self._relisten, lambda: self._close_tcp(listening_too=True)):
                self._stopping.wait(IDLE)
                continue
            assert self._server is not None
            ready, _, _ = select.select([self._server], [], [], IDLE)
            if not ready:
                continue
            try:
                connection, _ = self._server.accept()
            except OSError:
                continue
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connection = connection
            try:
                self._serve(_SocketEndpoint(connection), lambda: self._want_plugged)
            except OSError:
                pass
            self._close_tcp(listening_too=False)

    def _follow_plug(self, plug: Callable[[], None], unplug: Callable[[], None]) -> bool:
        """Makes the port follow unplug()/plug() (on this thread, which owns it)."""
        with self._changed:
            if self._want_plugged and not self._plugged:
                plug()
            elif not self._want_plugged and self._plugged:
                unplug()
            self._changed.notify_all()
            return self._plugged

    def _serve(self, endpoint: _Endpoint, plugged: Callable[[], bool]) -> None:
        splitter = protocol.FrameSplitter()
        pacer = None if self.wire_baud is None else _WirePacer(self.wire_baud)
        while not self._stopping.is_set() and plugged():
            data = endpoint.read()
            if pacer is not None and data:
                pacer.received(len(data), time.perf_counter())
            for packet in splitter.feed(data):
                answer = self._on_packet(packet)
                with self._lock:
                    if self._mute:
                        answer = None
                    garbage, self._garbage = bytes(self._garbage), bytearray()
                if answer:
                    if pacer is not None:
                        pacer.hold(len(answer))
                    endpoint.write(answer)
                if garbage:
                    endpoint.write(garbage)

    def _make_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(master)  # the line discipline of the pair: raw, no echo
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._pty = (master, slave)  # holding the slave: the master reads no EIO between opens
        link = self.pty_path
        temporary = link + ".new"
        if os.path.lexists(temporary):
            os.unlink(temporary)
        os.symlink(os.ttyname(slave), temporary)
        os.replace(temporary, link)
        self._plugged = True

    def _close_pty(self) -> None:
        with self._lock:
            pty, self._pty = self._pty, None
            self._plugged = False
        if self._link_dir is not None:
            Path(self.pty_path).unlink(missing_ok=True)  # the device is gone, and its name
        if pty is not None:
            for fd in pty:
                os.close(fd)

    def _listen(self, host: str, port: int) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind((host, port))
            server.listen(1)
        except OSError:
            server.close()
            raise
        self._server = server
        bound = server.getsockname()
        self._address = (bound[0], bound[1])
        self._plugged = True

    def _relisten(self) -> None:
        assert self._address is not None
        self._listen(*self._address)

    def _close_tcp(self, *, listening_too: bool) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
            server = None
            if listening_too:
                server, self._server = self._server, None
                self._plugged = False
        for sock in (connection, server):
            if sock is not None:
                sock.close()

    # ------------------------------------------------------------------ the consoles' side

    def _on_packet(self, packet: bytes) -> bytes | None:
        try:
            frame = protocol.decode(packet)
        except protocol.ProtocolError:
            return None  # a console ignores what it cannot read
        with self._lock:
            if isinstance(frame, protocol.Poll):
                console = self._find(frame.address)
                return console.answer(frame) if console is not None else None
            if isinstance(frame, protocol.Session):
                console = self._find(frame.address)
                if console is not None and console.answering:
                    console.start_session(frame.nonce)
            elif isinstance(frame, protocol.Text):
                console = self._find(frame.address)
                if console is not None and console.answering:
                    console.text = frame.text
            elif isinstance(frame, protocol.Time):
                for console in self._consoles:
                    if console.answering:
                        console.time_ms = frame.unix_ms
            elif isinstance(frame, protocol.Discover):
                return self._discovered()
            elif isinstance(frame, protocol.Assign) and frame.new_address != protocol.BROADCAST:
                for console in self._consoles:
                    if console.spec.serial == frame.serial:  # whatever its current address
                        console.address = frame.new_address
                        console.lose_session()
        return None

    def _discovered(self) -> bytes | None:
        answers = b"".join(
            protocol.encode(
                protocol.Hello(protocol.UNASSIGNED, c.spec.serial, c.spec.firmware, c.spec.hardware)
            )
            for c in self._consoles
            if c.address == protocol.UNASSIGNED and c.answering
        )
        return answers or None

    def _find(self, address: int) -> _Console | None:
        for console in self._consoles:
            if console.address == address:
                return console
        return None

    def _get(self, address: int) -> _Console:
        console = self._find(address)
        if console is None:
            raise KeyError(f"no simulated console at address {address}")
        return console

    # ------------------------------------------------------------------ scripting

    def insert_card(self, address: int, uid: bytes) -> None:
        with self._lock:
            console = self._get(address)
            console.card = bytes(uid)
            console.add_event(protocol.EventKind.CARD_INSERTED, uid)

    def remove_card(self, address: int) -> None:
        with self._lock:
            console = self._get(address)
            console.card = None
            console.add_event(protocol.EventKind.CARD_REMOVED, b"")

    def press(self, address: int, key: protocol.Key) -> None:
        with self._lock:
            console = self._get(address)
            console.held[protocol.Key(key)] = time.monotonic()
            console.add_event(protocol.EventKind.KEY_DOWN, bytes([key]))

    def release(self, address: int, key: protocol.Key) -> None:
        with self._lock:
            console = self._get(address)
            since = console.held.pop(protocol.Key(key), time.monotonic())
            held_ms = min(int((time.monotonic() - since) * 1000), 0xFFFF)
            console.add_event(protocol.EventKind.KEY_UP, bytes([key]) + held_ms.to_bytes(2, "big"))

    def tap(self, address: int, key: protocol.Key) -> None:
        with self._lock:
            self.press(address, key)
            self.release(address, key)

    def set_faults(self, address: int, faults: protocol.Faults) -> None:
        with self._lock:
            self._get(address).faults = protocol.Faults(faults)

    def stop_answering(self, address: int) -> None:
        """The cable pulled: the console hears and says nothing (it keeps its session)."""
        with self._lock:
            self._get(address).answering = False

    def resume(self, address: int) -> None:
        with self._lock:
            self._get(address).answering = True

    def reboot(self, address: int) -> None:
        """Power cycle: the session and the unsent events (RAM) are lost; a card still in the
        reader makes a CARD_INSERTED again."""
        with self._lock:
            console = self._get(address)
            console.lose_session()
            console.pending.clear()
            console.held.clear()
            console.lights, console.text, console.last_beep = protocol.Lights(0), "", 0
            if console.card is not None:  # a card already in the reader at power-up
                console.add_event(protocol.EventKind.CARD_INSERTED, console.card)

    def send_garbage(self, data: bytes) -> None:
        """Raw bytes onto the bus right after the next frame the simulator hears."""
        with self._lock:
            self._garbage += data

    def babble(self, address: int, n_bytes: int) -> None:
        """The console answers its next POLL with `n_bytes` of noise without a delimiter."""
        with self._lock:
            self._get(address).babble = n_bytes

    def forge_event(self, address: int, kind: int, data: bytes) -> None:
        """Answers the console's next POLL with an EVENT signed with a wrong key."""
        with self._lock:
            self._get(address).forged.append((int(kind), bytes(data)))

    def replay_last_event(self, address: int, back: int = 1) -> None:
        """Answers the next POLL with an already acknowledged EVENT frame of this session,
        byte for byte: the latest (back=1: a retransmission to the master) or an older one
        (back=2 …: a replay)."""
        with self._lock:
            console = self._get(address)
            if len(console.acked_frames) < back:
                raise ValueError(f"console {address} has fewer than {back} acknowledged events")
            console.replays.append(console.acked_frames[-back])

    def ignore_next_identify(self, address: int) -> None:
        """The console answers its next POLL with IDENTIFY as if the bit were clear (firmware
        without it): with STATUS or EVENT under the session it still holds."""
        with self._lock:
            self._get(address).ignore_identify = True

    def ignore_next_ack(self, address: int) -> None:
        """The next POLL that acknowledges an event is lost: the event is sent again."""
        with self._lock:
            self._get(address).ignore_ack = True

    # ------------------------------------------------------------------ reading back

    def lights(self, address: int) -> protocol.Lights:
        with self._lock:
            return self._get(address).lights

    def text(self, address: int) -> str:
        with self._lock:
            return self._get(address).text

    def beeps(self, address: int) -> int:
        with self._lock:
            return self._get(address).beeps

    def pending(self, address: int) -> int:
        with self._lock:
            return len(self._get(address).pending)

    def acknowledged(self, address: int) -> list[tuple[protocol.EventKind, bytes]]:
        with self._lock:
            return list(self._get(address).acknowledged)

    def has_session(self, address: int) -> bool:
        with self._lock:
            return self._get(address).nonce is not None

    def last_counter(self, address: int) -> int:
        """The counter of the console's latest signed event in this session (0: none yet)."""
        with self._lock:
            return self._get(address).counter

    def time_ms(self, address: int) -> int | None:
        with self._lock:
            return self._get(address).time_ms


def run_simulator(
    count: int,
    first_address: int = 1,
    *,
    serials: Sequence[bytes] | None = None,
    keys: Mapping[bytes, bytes] | None = None,
    seed: bytes = DEMO_SEED,
    tcp: tuple[str, int] | None = None,
    stop: threading.Event | None = None,
    out: TextIO | None = None,
) -> None:
    """Runs `count` simulated consoles from `first_address` until interrupted (or `stop` is set),
    after printing one line: the pty path or socket://host:port for the bus master.

    Serials default to demo_fleet's; keys (serial → key) default to those derived from `seed`.
    """
    if serials is None:
        serials = [spec.serial for spec in demo_fleet(count, first_address, seed=seed)]
    if len(serials) != count:
        raise ValueError(f"{count} consoles need {count} serials, not {len(serials)}")
    fleet = []
    for index, serial_number in enumerate(serials):
        key = derive_key(seed, serial_number) if keys is None else keys.get(serial_number)
        if key is None:
            raise ValueError(f"no key for the console with serial {serial_number.hex()}")
        fleet.append(SimulatedConsoleSpec(first_address + index, serial_number, key))
    stream = out if out is not None else sys.stdout
    with ConsoleSimulator(fleet) as simulator:
        if tcp is None:
            line = simulator.open_pty()
        else:
            host, port = simulator.serve_tcp(*tcp)
            line = f"socket://{host}:{port}"
        print(line, file=stream, flush=True)
        waiter = stop or threading.Event()
        try:
            while not waiter.wait(0.5):
                pass
        except KeyboardInterrupt:
            return
