"""The seat consoles' wire protocol, version 1: a pure codec (no I/O, no clock, no state).

docs/console-protocol.md is the specification; this module is its reference implementation and
docs/console-protocol-vectors.json its test vectors. A frame on the wire is

    COBS( header | body | CRC-16 ) 0x00

header = version(4 bits) type(4 bits), address (2 bytes, big-endian); the CRC (polynomial 0xAC9A
in Koopman's notation, big-endian) covers header and body, which never exceed MAX_COVERED bytes,
the length up to which the polynomial has Hamming distance 5. Every function here either returns
a value or raises ProtocolError: no input makes the decoder raise anything else.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from cobs import cobs
from crc import Calculator, Configuration
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

VERSION = 1
UNASSIGNED = 0x0000
BROADCAST = 0xFFFF
MAX_COVERED = 30  # header + body bytes under the CRC: 240 bits, within HD=5 of 0xAC9A (241)
CRC_LEN = 2
MAC_LEN = 8  # AES-CMAC truncated to 64 bits
NONCE_LEN = 4
KEY_LEN = 16  # AES-128
SERIAL_LEN = 8
MAX_TEXT = 24  # bytes of UTF-8 on a console's text line
MAX_EVENT_DATA = 10  # the longest card UID (ISO/IEC 14443 triple size)
# COBS adds one byte per 254 (one here): the longest packet between two delimiters.
MAX_PACKET = MAX_COVERED + CRC_LEN + 1

CRC_CONFIGURATION = Configuration(
    width=16,
    polynomial=0x5935,  # 0xAC9A in Koopman's notation (x^16 implicit, +1 explicit)
    init_value=0x0000,
    final_xor_value=0x0000,
    reverse_input=False,
    reverse_output=False,
)


class _CrcPerThread(threading.local):
    """The crc package's Calculator keeps its register between calls, so two threads computing
    at once (a bus master and the simulator, five masters of a gateway) corrupt each other's
    CRC: every thread gets a calculator of its own."""

    def __init__(self) -> None:
        self.calculator = Calculator(CRC_CONFIGURATION, optimized=True)

    def checksum(self, data: bytes) -> int:
        """The CRC-16 of `data` (the covered bytes of a frame)."""
        value: int = self.calculator.checksum(data)
        return value


CRC16 = _CrcPerThread()


class ProtocolError(ValueError):
    """A packet that is not a valid frame; `reason` is a short code for counting."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class FrameType(IntEnum):
    """The frame types; master → console are 0x1-0x7, console → master 0x8-0xF."""

    POLL = 0x1
    TEXT = 0x3
    TIME = 0x4
    DISCOVER = 0x5
    ASSIGN = 0x6
    SESSION = 0x7
    STATUS = 0x8
    EVENT = 0x9
    HELLO = 0xA


class Lights(IntFlag):
    """POLL byte `lights`: what the console shows."""

    FOR = 0x01  # the recorded choice, lit only after the server committed it
    AGAINST = 0x02
    ABSTAIN = 0x04
    VOTE_OPEN = 0x08
    MICROPHONE = 0x10
    SPEAK_QUEUED = 0x20
    LOCKED = 0x40  # this seat may not vote (alarm, card removed during a vote)
    REGISTERED = 0x80


class Inputs(IntFlag):
    """STATUS byte `inputs`: what the console senses now (the held state of every key)."""

    CARD = 0x01
    FOR_HELD = 0x02
    AGAINST_HELD = 0x04
    ABSTAIN_HELD = 0x08
    SPEAK_HELD = 0x10


class Faults(IntFlag):
    """STATUS byte `faults`: what the console found wrong with itself."""

    CARD_READER = 0x01
    KEY_STUCK = 0x02
    MICROPHONE = 0x04
    BROWNOUT = 0x08
    STORAGE = 0x10


class Key(IntEnum):
    FOR = 1
    AGAINST = 2
    ABSTAIN = 3
    SPEAK = 4


class EventKind(IntEnum):
    KEY_DOWN = 1  # data: key
    KEY_UP = 2  # data: key, held milliseconds (2 bytes, saturating at 65535)
    CARD_INSERTED = 3  # data: the card's UID, 4, 7 or 10 bytes
    CARD_REMOVED = 4  # data: none


POLL_BEEP = 0x03  # POLL control bits 1-0: the beep counter
POLL_IDENTIFY = 0x04  # POLL control bit 2: forget your session and answer HELLO


@dataclass(frozen=True, slots=True)
class Poll:
    """Master → console: your turn; `ack` is the low byte of the last event counter accepted.

    `identify` (control bit 2) tells the console to drop its session (keeping its queued
    events) and answer HELLO: the master sets it while it has no session with the console, for
    example after the master restarted, and the console then ignores `ack`."""

    address: int
    ack: int = 0
    lights: Lights = Lights(0)
    beep: int = 0  # a 2-bit counter: the console beeps whenever it changes
    identify: bool = False


@dataclass(frozen=True, slots=True)
class Text:
    address: int
    text: str


@dataclass(frozen=True, slots=True)
class Time:
    """Broadcast: wall-clock time as Unix milliseconds (6 bytes), for the console's display."""

    unix_ms: int
    address: int = BROADCAST


@dataclass(frozen=True, slots=True)
class Discover:
    """Broadcast: unassigned consoles answer HELLO in a random one of `slots` 2 ms slots."""

    slots: int
    address: int = BROADCAST


@dataclass(frozen=True, slots=True)
class Assign:
    """Broadcast: the console with this serial number takes `new_address`."""

    serial: bytes
    new_address: int
    address: int = BROADCAST


@dataclass(frozen=True, slots=True)
class Session:
    """Master → console: the nonce every MAC of this session covers; event counters restart."""

    address: int
    nonce: bytes


@dataclass(frozen=True, slots=True)
class Status:
    """Console → master: the answer to a POLL when no event is pending (the heartbeat)."""

    address: int
    inputs: Inputs = Inputs(0)
    faults: Faults = Faults(0)


@dataclass(frozen=True, slots=True)
class Event:
    """Console → master: a change of state, authenticated (counter and MAC)."""

    address: int
    counter: int
    kind: int
    data: bytes
    mac: bytes


@dataclass(frozen=True, slots=True)
class Hello:
    """Console → master: who I am; the answer to POLL while the console has no session."""

    address: int
    serial: bytes
    firmware: tuple[int, int]
    hardware: int


Frame = Poll | Text | Time | Discover | Assign | Session | Status | Event | Hello


def _u16(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ProtocolError("value", f"{what} {value} is outside 0-65535")
    return value.to_bytes(2, "big")


def _u8(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFF:
        raise ProtocolError("value", f"{what} {value} is outside 0-255")
    return bytes([value])


def _exact(value: bytes, length: int, what: str) -> bytes:
    if len(value) != length:
        raise ProtocolError("value", f"{what} must be {length} bytes, not {len(value)}")
    return bytes(value)


def event_body(address: int, counter: int, kind: int, data: bytes) -> bytes:
    """The bytes of an EVENT frame that its MAC covers (after the nonce): all before the MAC."""
    if len(data) > MAX_EVENT_DATA:
        raise ProtocolError("value", f"event data of {len(data)} bytes exceeds {MAX_EVENT_DATA}")
    if not 0 <= counter <= 0xFFFFFFFF:
        raise ProtocolError("value", f"counter {counter} is outside 0-4294967295")
    return (
        _header(FrameType.EVENT, address)
        + counter.to_bytes(4, "big")
        + _u8(kind, "event kind")
        + bytes([len(data)])
        + bytes(data)
    )


def mac(key: bytes, nonce: bytes, covered: bytes) -> bytes:
    """AES-CMAC(key, nonce || covered) truncated to MAC_LEN bytes (RFC 4493, NIST SP 800-38B)."""
    signer = CMAC(algorithms.AES(_exact(key, KEY_LEN, "key")))
    signer.update(_exact(nonce, NONCE_LEN, "nonce") + covered)
    return signer.finalize()[:MAC_LEN]


def sign_event(
    key: bytes, nonce: bytes, address: int, counter: int, kind: int, data: bytes
) -> Event:
    """An EVENT with its MAC, as a console with `key` in session `nonce` sends it."""
    tag = mac(key, nonce, event_body(address, counter, kind, data))
    return Event(address, counter, kind, bytes(data), tag)


def event_is_authentic(key: bytes, nonce: bytes, event: Event) -> bool:
    """Whether the event's MAC is right for this console's key and session (constant time)."""
    expected = mac(key, nonce, event_body(event.address, event.counter, event.kind, event.data))
    return hmac.compare_digest(expected, event.mac)


def _header(kind: FrameType, address: int) -> bytes:
    return bytes([VERSION << 4 | kind]) + _u16(address, "address")


def _body(frame: Frame) -> tuple[FrameType, bytes]:
    match frame:
        case Poll(_, ack, lights, beep, identify):
            if not 0 <= beep <= POLL_BEEP:
                raise ProtocolError("value", f"beep {beep} is outside 0-3 (a 2-bit counter)")
            control = beep | (POLL_IDENTIFY if identify else 0)
            return FrameType.POLL, _u8(ack, "ack") + _u8(int(lights), "lights") + bytes([control])
        case Text(_, text):
            raw = text.encode("utf-8")
            if len(raw) > MAX_TEXT:
                raise ProtocolError("value", f"text of {len(raw)} UTF-8 bytes exceeds {MAX_TEXT}")
            return FrameType.TEXT, bytes([len(raw)]) + raw
        case Time(unix_ms, _):
            if not 0 <= unix_ms < 1 << 48:
                raise ProtocolError("value", f"time {unix_ms} does not fit 6 bytes")
            return FrameType.TIME, unix_ms.to_bytes(6, "big")
        case Discover(slots, _):
            return FrameType.DISCOVER, _u8(slots, "slots")
        case Assign(serial, new_address, _):
            return FrameType.ASSIGN, _exact(serial, SERIAL_LEN, "serial") + _u16(
                new_address, "new address"
            )
        case Session(_, nonce):
            return FrameType.SESSION, _exact(nonce, NONCE_LEN, "nonce")
        case Status(_, inputs, faults):
            return FrameType.STATUS, _u8(int(inputs), "inputs") + _u8(int(faults), "faults")
        case Event(address, counter, kind, data, tag):
            covered = event_body(address, counter, kind, data)
            return FrameType.EVENT, covered[3:] + _exact(tag, MAC_LEN, "MAC")
        case Hello(_, serial, (major, minor), hardware):
            return FrameType.HELLO, _exact(serial, SERIAL_LEN, "serial") + bytes(
                [_u8(major, "firmware")[0], _u8(minor, "firmware")[0], _u8(hardware, "hardware")[0]]
            )
    raise ProtocolError("value", f"{type(frame).__name__} is not a frame")


def covered_bytes(frame: Frame) -> bytes:
    """Header and body: what the CRC covers."""
    kind, body = _body(frame)
    return _header(kind, frame.address) + body


def encode(frame: Frame) -> bytes:
    """The bytes on the wire for a frame, the closing 0x00 delimiter included."""
    covered = covered_bytes(frame)
    return cobs.encode(covered + CRC16.checksum(covered).to_bytes(2, "big")) + b"\x00"


# Exact body length of every fixed-size type; TEXT and EVENT carry their own length byte.
_FIXED = {
    FrameType.POLL: 3,
    FrameType.TIME: 6,
    FrameType.DISCOVER: 1,
    FrameType.ASSIGN: SERIAL_LEN + 2,
    FrameType.SESSION: NONCE_LEN,
    FrameType.STATUS: 2,
    FrameType.HELLO: SERIAL_LEN + 3,
}


def decode(packet: bytes) -> Frame:
    """The frame in one packet (the bytes between two delimiters), or ProtocolError."""
    if not packet:
        raise ProtocolError("empty", "no bytes between two delimiters")
    if len(packet) > MAX_PACKET:
        raise ProtocolError("length", f"{len(packet)} bytes exceed the longest frame")
    try:
        raw = cobs.decode(bytes(packet))
    except cobs.DecodeError as error:
        raise ProtocolError("cobs", str(error)) from None
    if len(raw) < 3 + CRC_LEN:
        raise ProtocolError("length", f"{len(raw)} bytes are too short for a frame")
    covered, crc = raw[:-CRC_LEN], int.from_bytes(raw[-CRC_LEN:], "big")
    if CRC16.checksum(covered) != crc:
        raise ProtocolError("crc", "the CRC does not match")
    version, type_code = covered[0] >> 4, covered[0] & 0x0F
    if version != VERSION:
        raise ProtocolError("version", f"protocol version {version} is not {VERSION}")
    try:
        kind = FrameType(type_code)
    except ValueError:
        raise ProtocolError("type", f"frame type {type_code:#x} is unknown") from None
    address = int.from_bytes(covered[1:3], "big")
    return _parse(kind, address, covered[3:])


def _parse(kind: FrameType, address: int, body: bytes) -> Frame:
    expected = _FIXED.get(kind)
    if kind is FrameType.TEXT:
        if body and body[0] > MAX_TEXT:
            raise ProtocolError("length", f"TEXT of {body[0]} bytes exceeds {MAX_TEXT}")
        expected = 1 + body[0] if body else 1
    elif kind is FrameType.EVENT:
        expected = 6 + body[5] + MAC_LEN if len(body) >= 6 else 6 + MAC_LEN
    if len(body) != expected:
        raise ProtocolError("length", f"{kind.name} body of {len(body)} bytes, not {expected}")
    match kind:
        case FrameType.POLL:
            control = body[2]
            if control & ~(POLL_BEEP | POLL_IDENTIFY):
                raise ProtocolError("value", "POLL control bits 3-7 must be zero")
            return Poll(
                address,
                body[0],
                Lights(body[1]),
                control & POLL_BEEP,
                bool(control & POLL_IDENTIFY),
            )
        case FrameType.TEXT:
            try:
                return Text(address, body[1:].decode("utf-8"))
            except UnicodeDecodeError:
                raise ProtocolError("value", "TEXT is not UTF-8") from None
        case FrameType.TIME:
            return Time(int.from_bytes(body, "big"), address)
        case FrameType.DISCOVER:
            return Discover(body[0], address)
        case FrameType.ASSIGN:
            return Assign(body[:SERIAL_LEN], int.from_bytes(body[SERIAL_LEN:], "big"), address)
        case FrameType.SESSION:
            return Session(address, body)
        case FrameType.STATUS:
            return Status(address, Inputs(body[0]), Faults(body[1]))
        case FrameType.EVENT:
            length = body[5]
            if length > MAX_EVENT_DATA:
                raise ProtocolError("length", f"event data of {length} bytes")
            counter, data, tag = (
                int.from_bytes(body[:4], "big"),
                body[6 : 6 + length],
                body[-MAC_LEN:],
            )
            return Event(address, counter, body[4], data, tag)
        case FrameType.HELLO:
            return Hello(address, body[:SERIAL_LEN], (body[8], body[9]), body[10])
    raise ProtocolError("type", f"frame type {kind.name} has no parser")  # pragma: no cover


class FrameSplitter:
    """Cuts a byte stream into packets at every 0x00; resynchronises after noise by itself.

    A run longer than any frame without a delimiter (a babbling console, line noise) is dropped
    and counted as `overruns`; the splitter never holds more than MAX_PACKET bytes.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._overflowing = False
        self.overruns = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The complete packets in `data` (with what came before), empty ones left out."""
        packets = []
        for piece in _split_keep(data):
            if piece == b"\x00":
                if self._buffer and not self._overflowing:
                    packets.append(bytes(self._buffer))
                self._buffer.clear()
                self._overflowing = False
                continue
            if self._overflowing:
                continue
            self._buffer += piece
            if len(self._buffer) > MAX_PACKET:
                self._buffer.clear()
                self._overflowing = True
                self.overruns += 1
        return packets


def _split_keep(data: bytes) -> list[bytes]:
    parts: list[bytes] = []
    for index, chunk in enumerate(bytes(data).split(b"\x00")):
        if index:
            parts.append(b"\x00")
        if chunk:
            parts.append(chunk)
    return parts
