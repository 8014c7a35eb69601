"""The bus master: one thread per serial port that drives the seat consoles on it.

Three layers, in the shape of pyserial's serial.threaded: a reader thread that only moves bytes
(`_Reader`), the framing (`FrameReader`: bytes → packets → frames, on the reader's thread), and
the meaning (`BusMaster`: the poll cycle, sessions, event authentication, online state) on the
master's thread, which waits for each answer on a queue fed by the reader. Nothing that arrives
on the bus makes the master raise: a bad frame is dropped, counted and reported
(`BusListener.refused`); a failing port is closed, reported and reopened with backoff.

docs/console-protocol.md specifies the protocol; hardware/protocol.py is its codec.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

# pyserial ships no type information (and types-pyserial is not a dependency): its names are Any.
import serial  # type: ignore[import-untyped]  # pyserial has no type stubs
import serial.rs485  # type: ignore[import-untyped]  # pyserial has no type stubs
import serial.threaded  # type: ignore[import-untyped]  # pyserial has no type stubs

from hardware import protocol

READ_TIMEOUT = 0.05  # s: how long a read may block where the port cannot cancel a read
WRITE_TIMEOUT = 0.5  # s: a write that takes longer means the port is gone
BACKOFF_FIRST = 0.1  # s: the first wait before reopening a port; doubles up to backoff_max
TIME_EVERY = 60.0  # s: the TIME broadcast's period
DISCOVER_SLOT = 0.002  # s: one slot of DISCOVER
OFFLINE_POLLS_PER_CYCLE = 1  # offline consoles polled in a cycle while others answer
IDLE_WAIT = 0.01  # s: the pause of a cycle that had no console to poll
MASTER_TYPES = frozenset(
    {
        protocol.FrameType.POLL,
        protocol.FrameType.TEXT,
        protocol.FrameType.TIME,
        protocol.FrameType.DISCOVER,
        protocol.FrameType.ASSIGN,
        protocol.FrameType.SESSION,
    }
)
_MASTER_FRAMES = (
    protocol.Poll,
    protocol.Text,
    protocol.Time,
    protocol.Discover,
    protocol.Assign,
    protocol.Session,
)
# What a port may raise when it fails: pyserial's own error (SerialTimeoutException and
# PortNotOpenError are kinds of it), the OS's, and the ValueError pyserial gives for a bad URL.
PORT_ERRORS = (serial.SerialException, OSError, ValueError)


@dataclass(frozen=True)
class PortSettings:
    """One serial port (one RS-485 bus) and the console addresses on it."""

    url: str  # a pyserial URL: /dev/ttyUSB0, rfc2217://…, socket://host:port, loop://, spy://…
    baudrate: int = 115200
    rs485: bool = False  # set the kernel's RS-485 mode where the port supports it
    low_latency: bool = True  # ASYNC_LOW_LATENCY where the port supports it
    # s: how long the master waits for an answer to a POLL. A console answers within 1 ms and
    # its longest answer takes 2.7 ms at 115200 baud; the rest is slack for a USB adapter's
    # latency and a busy host (a late answer costs the console a whole cycle). It costs nothing
    # while consoles answer, and an offline console is polled only every offline_poll_every.
    reply_timeout: float = 0.02
    addresses: tuple[int, ...] = ()
    offline_after_misses: int = 3  # consecutive polls without a valid answer
    offline_after: float = 1.0  # s without a valid answer
    offline_poll_every: float = 0.25  # s: an offline console is polled at most this often
    backoff_max: float = 5.0  # s: the longest wait between attempts to reopen the port

    def __post_init__(self) -> None:
        for address in self.addresses:
            if not protocol.UNASSIGNED < address < protocol.BROADCAST:
                raise ValueError(f"{self.url}: console address {address} is outside 1-65534")
        if len(set(self.addresses)) != len(self.addresses):
            raise ValueError(f"{self.url}: a console address is listed twice")
        waits = (self.reply_timeout, self.offline_after, self.offline_poll_every, self.backoff_max)
        if min(waits) <= 0:
            raise ValueError(f"{self.url}: timeouts must be positive")
        if self.offline_after_misses < 1:
            raise ValueError(f"{self.url}: offline_after_misses must be at least 1")


class BusListener(Protocol):
    """What the bus master reports. Every call comes on the master's thread and must return at
    once (the gateway puts it on a queue)."""

    def console_event(
        self, port: str, address: int, kind: protocol.EventKind, data: bytes
    ) -> None: ...

    def console_online(self, port: str, address: int, online: bool) -> None: ...

    def console_hello(self, port: str, address: int, hello: protocol.Hello) -> None: ...

    def console_status(
        self, port: str, address: int, inputs: protocol.Inputs, faults: protocol.Faults
    ) -> None:
        """Only when a console's held inputs or faults change."""

    def port_state(self, port: str, connected: bool, error: str | None) -> None: ...

    def refused(self, port: str, address: int | None, reason: str) -> None:
        """A frame dropped (crc, cobs, length, unexpected, echo, …) or refused (forged, replay,
        unprovisioned, unknown-kind); `address` None when it could not be read. A STATUS or EVENT
        from a console the master has no session with is no refusal: it is counted as
        "identify", and the console's next POLL tells it to say HELLO."""


class PortLost(Exception):
    """The port failed under the master (read, write or the reader's own end)."""


Inbound = protocol.Frame | protocol.ProtocolError | PortLost


class FrameReader(serial.threaded.Protocol):
    """The framing layer: bytes from the reader thread through a bounded FrameSplitter; each
    packet decoded (or its ProtocolError) handed to `sink`, and the port's loss as PortLost."""

    def __init__(self, sink: Callable[[Inbound], None]) -> None:
        self._sink = sink
        self._splitter = protocol.FrameSplitter()
        self._overruns = 0
        self._lock = threading.Lock()

    def data_received(self, data: bytes) -> None:
        with self._lock:
            packets = self._splitter.feed(data)
            overruns, self._overruns = (
                self._splitter.overruns - self._overruns,
                (self._splitter.overruns),
            )
        self._hand_on(packets, overruns)

    def flush(self) -> None:
        """Ends the packet in progress: what came before an exchange cannot be its answer (it is
        decoded and counted like any other bad packet, and cannot spoil the answer)."""
        self.data_received(b"\x00")

    def connection_lost(self, exc: BaseException | None) -> None:
        self._sink(PortLost(str(exc) if exc else "the port's reader ended"))

    def _hand_on(self, packets: list[bytes], overruns: int) -> None:
        for _ in range(overruns):
            self._sink(protocol.ProtocolError("overrun", "a run of bytes longer than any frame"))
        for packet in packets:
            try:
                self._sink(protocol.decode(packet))
            except protocol.ProtocolError as error:
                self._sink(error)


class _Reader(threading.Thread):
    """Reads the port and feeds the framing until stopped or the port fails (the I/O loop of
    serial.threaded.ReaderThread, which lets OSError escape and waits a second to stop)."""

    def __init__(self, port: Any, framing: FrameReader, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._port = port
        self._framing = framing
        self.alive = True

    def run(self) -> None:
        error: BaseException | None = None
        try:
            while self.alive:
                data = self._port.read(self._port.in_waiting or 1)
                if data and self.alive:
                    self._framing.data_received(data)
        except Exception as failure:  # whatever a port's read raises ends this port, no more
            error = failure
        if self.alive:
            self.alive = False
            self._framing.connection_lost(error)

    def stop(self) -> None:
        self.alive = False
        cancel = getattr(self._port, "cancel_read", None)
        if cancel is not None:
            try:
                cancel()
            except Exception:  # a port already broken cannot be cancelled; the join bounds it
                pass
        if self is not threading.current_thread():
            self.join(timeout=1.0)


def open_serial(settings: PortSettings) -> Any:
    """The default way to open a port: pyserial's URL handlers, with short timeouts."""
    return serial.serial_for_url(
        settings.url,
        baudrate=settings.baudrate,
        timeout=READ_TIMEOUT,
        write_timeout=WRITE_TIMEOUT,
    )


@dataclass
class _Console:
    """What the master knows of one console (the master's thread only, except the outputs,
    which are under BusMaster._lock)."""

    address: int
    online: bool = False
    misses: int = 0
    last_valid: float = 0.0
    next_poll: float = 0.0  # while offline: not polled before this (monotonic)
    serial: bytes | None = None
    key: bytes | None = None
    nonce: bytes | None = None
    session_due: bool = False
    last_counter: int = 0
    ack: int = 0
    status: tuple[protocol.Inputs, protocol.Faults] | None = None
    refused_serial: bytes | None = None  # the unprovisioned serial already reported
    # outputs, set by the gateway
    lights: protocol.Lights = protocol.Lights(0)
    beep: int = 0
    text: str | None = None
    text_due: bool = False


class BusMaster:
    """Drives the consoles on one port: start() runs the poll cycle on its own thread until
    stop(). The setters are thread-safe; the listener is called on the master's thread."""

    def __init__(
        self,
        settings: PortSettings,
        keys: Mapping[bytes, bytes],
        listener: BusListener,
        *,
        open_port: Callable[[PortSettings], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.port_name = settings.url
        self._keys = keys
        self._listener = listener
        self._open_port = open_port or open_serial
        self._consoles = {a: _Console(a) for a in sorted(settings.addresses)}
        self._lock = threading.Lock()  # the consoles' outputs, the counters
        self._counts: Counter[str] = Counter()
        self._cycles = 0
        self._cycle_total = 0.0
        self._last_cycle = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._port: Any = None
        self._reader: _Reader | None = None
        self._framing: FrameReader | None = None
        self._inbox: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        self._port_connected: bool | None = None  # as last reported
        self._next_time = 0.0

    # ------------------------------------------------------------------ the gateway's side

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the bus master runs already")
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"bus-master {self.port_name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ends the thread (within about a second, also while it waits to reopen the port) and
        closes the port."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2.0)
        else:
            self._close_port()
        self._cancel_jobs()

    def set_lights(self, address: int, lights: protocol.Lights) -> None:
        with self._lock:
            self._console(address).lights = protocol.Lights(lights)

    def set_text(self, address: int, text: str) -> None:
        if len(text.encode("utf-8")) > protocol.MAX_TEXT:
            raise ValueError(f"text of more than {protocol.MAX_TEXT} UTF-8 bytes: {text!r}")
        with self._lock:
            console = self._console(address)
            if console.text != text:
                console.text, console.text_due = text, True

    def beep(self, address: int) -> None:
        with self._lock:
            console = self._console(address)
            console.beep = (console.beep + 1) & 0x03

    @property
    def stats(self) -> dict[str, Any]:
        """counts (by reason: dropped and refused frames, misses, deliveries, sessions …),
        cycles, last_cycle_s and mean_cycle_s, and online (address → bool)."""
        with self._lock:
            return {
                "counts": dict(self._counts),
                "cycles": self._cycles,
                "last_cycle_s": self._last_cycle,
                "mean_cycle_s": self._cycle_total / self._cycles if self._cycles else 0.0,
                "online": {a: c.online for a, c in self._consoles.items()},
            }

    def is_online(self, address: int) -> bool:
        """Whether the console at `address` answers, as of its last poll."""
        with self._lock:
            console = self._consoles.get(address)
            return console is not None and console.online

    def discover(self, slots: int) -> list[bytes]:
        """The serials of the unassigned consoles (address 0) that answer a DISCOVER within
        `slots` 2 ms slots and the reply timeout; run between two poll cycles."""
        if not 1 <= slots <= 255:
            raise ValueError("slots must be 1-255")
        window = slots * DISCOVER_SLOT + self.settings.reply_timeout
        return self._submit(lambda: self._discover(slots, window), window + 5.0)

    def assign(self, serial_number: bytes, address: int) -> None:
        """Broadcasts ASSIGN: the unassigned console with this serial takes `address`."""
        frame = protocol.Assign(bytes(serial_number), address)
        wire = protocol.encode(frame)  # raises ProtocolError on a bad serial or address
        self._submit(lambda: self._write(wire), 5.0)

    # ------------------------------------------------------------------ the master's thread

    def cycle_once(self) -> None:
        """One poll of every console (opening the port first if it is closed); a failing port is
        closed and reported, never raised."""
        if self._port is None and not self._connect():
            return
        started = time.perf_counter()
        try:
            now = time.monotonic()
            if now >= self._next_time:
                self._next_time = now + TIME_EVERY
                self._write(protocol.encode(protocol.Time(int(time.time() * 1000))))
            asked = self._offline_turns(now)
            polled = 0
            for console in self._consoles.values():
                if console.online or console.address in asked:
                    self._exchange(console)
                    polled += 1
        except PortLost as lost:
            self._disconnect(str(lost))
            return
        if not polled:  # every console offline and none due yet: no busy loop
            self._stopping.wait(IDLE_WAIT)
            return
        elapsed = time.perf_counter() - started
        with self._lock:
            self._cycles += 1
            self._cycle_total += elapsed
            self._last_cycle = elapsed

    def _offline_turns(self, now: float) -> set[int]:
        """The offline consoles polled in this cycle: those not polled for offline_poll_every,
        longest waiting first, and only OFFLINE_POLLS_PER_CYCLE of them while others answer (a
        console that does not answer costs the reply timeout: unplugged consoles must not
        stretch the cycle, and the time to a key press, of those that answer)."""
        due = [c for c in self._consoles.values() if not c.online and now >= c.next_poll]
        if any(c.online for c in self._consoles.values()):
            due = sorted(due, key=lambda c: c.next_poll)[:OFFLINE_POLLS_PER_CYCLE]
        return {c.address for c in due}

    def _run(self) -> None:
        backoff = BACKOFF_FIRST
        try:
            while not self._stopping.is_set():
                self._run_jobs()
                if self._port is None and not self._connect():
                    self._stopping.wait(backoff)
                    backoff = min(backoff * 2, self.settings.backoff_max)
                    continue
                self.cycle_once()
                if self._port is None:  # lost during the cycle
                    self._stopping.wait(backoff)
                    backoff = min(backoff * 2, self.settings.backoff_max)
                else:
                    backoff = BACKOFF_FIRST
        finally:
            self._close_port()
            self._cancel_jobs()

    def _exchange(self, console: _Console) -> None:
        out = bytearray()
        if console.session_due and console.nonce is not None:
            out += protocol.encode(protocol.Session(console.address, console.nonce))
            console.session_due = False
        with self._lock:
            if console.text_due and console.text is not None and console.online:
                out += protocol.encode(protocol.Text(console.address, console.text))
                console.text_due = False
            poll = protocol.Poll(
                console.address,
                console.ack,
                console.lights,
                console.beep,
                # no session with it (the master just started, or its serial has no key): the
                # console forgets whatever session it holds, ignores the ack and says HELLO
                identify=console.nonce is None or console.key is None,
            )
        out += protocol.encode(poll)
        self._drain()
        self._write(bytes(out))
        answer = self._await(console.address, time.monotonic() + self.settings.reply_timeout)
        now = time.monotonic()
        if answer is not None and self._handle(console, answer):
            console.misses, console.last_valid = 0, now
            if not console.online:
                self._set_online(console, True)
            return
        console.misses += 1
        self._count("miss")
        if console.online and (
            console.misses >= self.settings.offline_after_misses
            or now - console.last_valid >= self.settings.offline_after
        ):
            self._set_online(console, False)
        if not console.online:  # its timeouts must not stretch every cycle of the others
            console.next_poll = now + self.settings.offline_poll_every

    def _await(self, address: int, deadline: float) -> protocol.Frame | None:
        """The first frame of a console's type from `address` before `deadline`; everything
        else meanwhile is dropped and counted."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                item = self._inbox.get(timeout=remaining)
            except queue.Empty:
                return None
            if self._answers(item, address):
                assert not isinstance(item, PortLost | protocol.ProtocolError)
                return item

    def _answers(self, item: Inbound, address: int) -> bool:
        """Whether `item` answers a POLL of `address`; counts and reports what does not."""
        if isinstance(item, PortLost):
            raise item
        if isinstance(item, protocol.ProtocolError):
            self._refuse(None, item.reason)
            return False
        if isinstance(item, _MASTER_FRAMES):
            self._refuse(item.address, "echo")
            return False
        if item.address != address:
            self._refuse(item.address, "unexpected")
            return False
        return True

    def _drain(self) -> None:
        """Drops what arrived unasked since the last exchange (and the packet in progress)."""
        if self._framing is not None:
            self._framing.flush()
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, PortLost):
                raise item
            if isinstance(item, protocol.ProtocolError):
                self._refuse(None, item.reason)
            else:
                self._refuse(
                    item.address, "echo" if isinstance(item, _MASTER_FRAMES) else "unexpected"
                )

    def _handle(self, console: _Console, frame: protocol.Frame) -> bool:
        """Acts on a console's answer; whether it was a valid one."""
        if isinstance(frame, protocol.Hello):
            return self._hello(console, frame)
        if console.nonce is None or console.key is None:
            # It holds a session the master does not know: its POLL had IDENTIFY, yet it did not
            # say HELLO (firmware that does not honour the bit). Nothing from it is delivered,
            # and its next POLL has IDENTIFY again.
            self._count("identify")
            return False
        if isinstance(frame, protocol.Status):
            state = (frame.inputs, frame.faults)
            if state != console.status:
                console.status = state
                self._listener.console_status(
                    self.port_name, console.address, frame.inputs, frame.faults
                )
            return True
        if isinstance(frame, protocol.Event):
            return self._event(console, frame)
        return False  # pragma: no cover - _answers lets only a console's frames through

    def _hello(self, console: _Console, hello: protocol.Hello) -> bool:
        key = self._keys.get(hello.serial)
        if key is None:
            console.key = console.nonce = None
            console.session_due = False
            if console.refused_serial != hello.serial:
                console.refused_serial = hello.serial
                self._listener.console_hello(self.port_name, console.address, hello)
                self._refuse(console.address, "unprovisioned")
            return True  # it answers: online, but unusable
        console.refused_serial = None
        console.serial, console.key = hello.serial, key
        console.nonce, console.session_due = os.urandom(protocol.NONCE_LEN), True
        console.last_counter, console.ack, console.status = 0, 0, None
        with self._lock:
            console.text_due = console.text is not None
        self._count("session")
        self._listener.console_hello(self.port_name, console.address, hello)
        return True

    def _event(self, console: _Console, event: protocol.Event) -> bool:
        assert console.key is not None and console.nonce is not None
        if not protocol.event_is_authentic(console.key, console.nonce, event):
            self._refuse(console.address, "forged")
            return False
        if event.counter == console.last_counter:
            self._count("retransmission")  # our ack was lost: ack again, deliver nothing
            return True
        if event.counter < console.last_counter:
            self._refuse(console.address, "replay")
            return False
        console.last_counter, console.ack = event.counter, event.counter & 0xFF
        try:
            kind = protocol.EventKind(event.kind)
        except ValueError:
            self._refuse(console.address, "unknown-kind")  # acknowledged, not delivered
            return True
        self._count("delivered")
        self._listener.console_event(self.port_name, console.address, kind, event.data)
        return True

    def _set_online(self, console: _Console, online: bool) -> None:
        with self._lock:
            console.online = online
            if online and console.text is not None:
                console.text_due = True  # it may have lost its text while away
        console.misses = 0
        self._listener.console_online(self.port_name, console.address, online)

    # ------------------------------------------------------------------ the port

    def _connect(self) -> bool:
        try:
            port = self._open_port(self.settings)
        except PORT_ERRORS as error:
            self._report_port(False, f"cannot open: {error}")
            return False
        self._configure(port)
        inbox: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        framing = FrameReader(inbox.put)
        reader = _Reader(port, framing, f"bus-reader {self.port_name}")
        self._port, self._framing, self._reader, self._inbox = port, framing, reader, inbox
        reader.start()
        self._next_time = 0.0  # TIME at once
        now = time.monotonic()
        for console in self._consoles.values():
            console.misses, console.last_valid = 0, now
        self._report_port(True, None)
        return True

    def _configure(self, port: Any) -> None:
        if self.settings.rs485:
            try:
                port.rs485_mode = serial.rs485.RS485Settings()
            except (*PORT_ERRORS, AttributeError, NotImplementedError):
                self._count("rs485-unsupported")  # a pty, a socket: nothing to switch
                try:
                    port.rs485_mode = None
                except (*PORT_ERRORS, AttributeError, NotImplementedError):
                    pass
        if self.settings.low_latency and hasattr(port, "set_low_latency_mode"):
            try:
                port.set_low_latency_mode(True)
            except (*PORT_ERRORS, NotImplementedError):
                pass  # not a real UART (pty, USB adapter without the flag): nothing to lower

    def _disconnect(self, message: str) -> None:
        self._count("port-error")
        self._close_port()
        self._report_port(False, message)
        for console in self._consoles.values():
            if console.online:
                self._set_online(console, False)

    def _close_port(self) -> None:
        reader, port = self._reader, self._port
        self._reader = self._port = self._framing = None
        if reader is not None:
            reader.stop()
        if port is not None:
            # pyserial's socket:// close() skips closing its socket when shutdown() fails (a
            # connection the peer reset): close it here too, or it leaks (a ResourceWarning).
            leaky = getattr(port, "_socket", None)
            try:
                port.close()
            except Exception:  # a vanished port may fail to close; it is gone either way
                pass
            if leaky is not None and hasattr(leaky, "close"):
                leaky.close()

    def _write(self, data: bytes) -> None:
        if self._port is None:
            raise PortLost("the port is closed")
        try:
            self._port.write(data)
        except PORT_ERRORS as error:
            raise PortLost(f"write failed: {error}") from None

    def _report_port(self, connected: bool, error: str | None) -> None:
        """Reports the changes of state only: not every failed attempt to reopen."""
        if self._port_connected is not connected:
            self._port_connected = connected
            self._listener.port_state(self.port_name, connected, error)

    # ------------------------------------------------------------------ discovery, counters

    def _discover(self, slots: int, window: float) -> list[bytes]:
        if self._port is None:
            raise ConnectionError(f"{self.port_name} is not connected")
        self._drain()
        self._write(protocol.encode(protocol.Discover(slots)))
        found: list[bytes] = []
        deadline = time.monotonic() + window
        while (frame := self._await(protocol.UNASSIGNED, deadline)) is not None:
            if isinstance(frame, protocol.Hello) and frame.serial not in found:
                found.append(frame.serial)
        return found

    def _submit(self, job: Callable[[], Any], timeout: float) -> Any:
        if self._thread is None or self._stopping.is_set():
            raise RuntimeError("the bus master is not running")
        done: Future[Any] = Future()
        self._jobs.put((done, job))
        return done.result(timeout=timeout)

    def _run_jobs(self) -> None:
        while True:
            try:
                done, job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not done.set_running_or_notify_cancel():
                continue
            try:
                done.set_result(job())
            except PortLost as lost:
                done.set_exception(ConnectionError(str(lost)))
                self._disconnect(str(lost))
            except Exception as error:  # handed to the caller of discover() or assign()
                done.set_exception(error)

    def _cancel_jobs(self) -> None:
        while True:
            try:
                done, _ = self._jobs.get_nowait()
            except queue.Empty:
                return
            done.cancel()

    def _console(self, address: int) -> _Console:
        try:
            return self._consoles[address]
        except KeyError:
            raise KeyError(f"{self.port_name} has no console at address {address}") from None

    def _count(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] += 1

    def _refuse(self, address: int | None, reason: str) -> None:
        self._count(reason)
        self._listener.refused(self.port_name, address, reason)
