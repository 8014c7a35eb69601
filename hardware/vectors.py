"""The test vectors of the seat consoles' wire protocol (docs/console-protocol-vectors.json).

`build()` makes them from the reference codec (hardware/protocol.py); `python -m hardware.vectors`
writes the file. The file is committed: a console's or an emulator's author checks against it
without running Python, and tests/unit/test_console_vectors.py checks it against the codec by its
own means (it does not import this module's builders, only compares the file with `build()` once).
Everything here is deterministic: the same codec gives the same file, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cobs import cobs

from hardware import protocol as p

PATH = Path(__file__).resolve().parents[1] / "docs" / "console-protocol-vectors.json"

#: The key and session nonce of every signed example: the key is RFC 4493's example key.
KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
NONCE = bytes.fromhex("5a17c3e9")

UID_7 = bytes.fromhex("04a1b2c3d4e5f6")


def _event(address: int, counter: int, kind: p.EventKind, data: bytes) -> p.Event:
    return p.sign_event(KEY, NONCE, address, counter, kind, data)


#: (name, frame): every frame type, the boundaries, and bodies with 0x00 bytes for COBS to remove.
FRAMES: list[tuple[str, p.Frame]] = [
    (
        "poll",
        p.Poll(5, ack=2, lights=p.Lights.FOR | p.Lights.VOTE_OPEN | p.Lights.REGISTERED, beep=2),
    ),
    ("poll-all-lights-beep-3", p.Poll(0x0060, ack=0xFF, lights=p.Lights(0xFF), beep=3)),
    ("poll-nothing-lit", p.Poll(1, ack=0, lights=p.Lights(0), beep=0)),
    ("poll-address-0x0100", p.Poll(0x0100, ack=0, lights=p.Lights.REGISTERED, beep=1)),
    ("poll-highest-address", p.Poll(0xFFFE, ack=0x80, lights=p.Lights.LOCKED, beep=0)),
    ("poll-recorded-against", p.Poll(12, 7, p.Lights.AGAINST | p.Lights.REGISTERED, 1)),
    ("poll-speaking", p.Poll(12, 9, p.Lights.MICROPHONE | p.Lights.REGISTERED, 2)),
    ("poll-speak-queued", p.Poll(12, 9, p.Lights.SPEAK_QUEUED | p.Lights.REGISTERED, 2)),
    ("poll-identify", p.Poll(5, ack=0, lights=p.Lights(0), beep=0, identify=True)),
    ("poll-identify-beep-3", p.Poll(0x0060, 0, p.Lights.REGISTERED, 3, identify=True)),
    ("text", p.Text(5, "Пит. 12 · 01:30")),
    ("text-empty", p.Text(7, "")),
    ("text-24-bytes-cyrillic", p.Text(5, "Голосування 9")),
    ("text-24-bytes-ascii", p.Text(5, "0123456789ABCDEFGHIJKLMN")),
    ("text-ukrainian-letters", p.Text(5, "ҐЄІЇ ґєії ’")),
    ("text-broadcast", p.Text(p.BROADCAST, "Перерва")),
    ("time", p.Time(1_765_000_000_000)),
    ("time-zero", p.Time(0)),
    ("time-max", p.Time((1 << 48) - 1)),
    ("discover", p.Discover(16)),
    ("discover-255-slots", p.Discover(255)),
    ("assign", p.Assign(bytes.fromhex("534e303030303432"), 5)),
    ("assign-serial-with-zeros", p.Assign(bytes.fromhex("0000a5000000ff00"), 0x0100)),
    ("session", p.Session(5, NONCE)),
    ("session-zero-nonce", p.Session(0x0001, bytes(4))),
    ("status", p.Status(5, p.Inputs.CARD | p.Inputs.FOR_HELD)),
    ("status-idle", p.Status(5)),
    ("status-everything", p.Status(0x0060, p.Inputs(0x1F), p.Faults(0x1F))),
    ("status-card-reader-fault", p.Status(9, p.Inputs(0), p.Faults.CARD_READER)),
    ("event-key-down-for", _event(5, 2, p.EventKind.KEY_DOWN, bytes([p.Key.FOR]))),
    ("event-key-down-against", _event(5, 3, p.EventKind.KEY_DOWN, bytes([p.Key.AGAINST]))),
    ("event-key-down-abstain", _event(5, 4, p.EventKind.KEY_DOWN, bytes([p.Key.ABSTAIN]))),
    ("event-key-down-speak", _event(5, 5, p.EventKind.KEY_DOWN, bytes([p.Key.SPEAK]))),
    ("event-key-up-for", _event(5, 6, p.EventKind.KEY_UP, bytes([p.Key.FOR, 0x03, 0x52]))),
    ("event-key-up-saturated", _event(5, 7, p.EventKind.KEY_UP, bytes([p.Key.SPEAK, 255, 255]))),
    ("event-card-inserted", _event(5, 1, p.EventKind.CARD_INSERTED, UID_7)),
    ("event-card-inserted-4-byte-uid", _event(5, 8, p.EventKind.CARD_INSERTED, bytes(4))),
    (
        "event-card-inserted-10-byte-uid",
        _event(5, 9, p.EventKind.CARD_INSERTED, bytes.fromhex("88041122334455667788")),
    ),
    ("event-card-removed", _event(5, 10, p.EventKind.CARD_REMOVED, b"")),
    ("event-counter-256", _event(0x0100, 256, p.EventKind.KEY_DOWN, bytes([p.Key.FOR]))),
    ("event-counter-max", _event(0xFFFE, 0xFFFFFFFF, p.EventKind.CARD_REMOVED, b"")),
    ("hello", p.Hello(5, bytes.fromhex("534e303030303432"), (1, 4), 2)),
    ("hello-unassigned", p.Hello(p.UNASSIGNED, bytes.fromhex("0123456789abcdef"), (1, 0), 1)),
    ("hello-serial-with-zeros", p.Hello(0x0060, bytes.fromhex("0000000000000001"), (0, 0), 0)),
]


def _packet(covered: bytes, crc: int | None = None) -> bytes:
    """A packet (no delimiter) around these covered bytes, with their CRC unless told another."""
    value = p.CRC16.checksum(covered) if crc is None else crc
    return bytes(cobs.encode(covered + value.to_bytes(2, "big")))


def _crc_with_init(data: bytes, init: int) -> int:
    """The CRC computed bit by bit from another initial value (a common implementer's slip)."""
    register = init
    for byte in data:
        register ^= byte << 8
        for _ in range(8):
            register = (register << 1) ^ 0x5935 if register & 0x8000 else register << 1
            register &= 0xFFFF
    return register


def _invalid() -> list[tuple[str, bytes, str]]:
    """(name, packet, reason): what the decoder refuses, and the reason it must give."""
    poll = p.covered_bytes(p.Poll(5, 1, p.Lights.FOR, 2))
    good_poll = _packet(poll)
    flipped = bytearray(good_poll)
    flipped[3] ^= 0x04
    status = p.covered_bytes(p.Status(5, p.Inputs.CARD))
    event = p.covered_bytes(_event(5, 1, p.EventKind.KEY_DOWN, bytes([p.Key.FOR])))
    crc = p.CRC16.checksum(poll)
    return [
        ("empty", b"", "empty"),
        ("longer-than-any-frame", b"\xff" * (p.MAX_PACKET + 1), "length"),
        ("cobs-code-past-the-end", bytes.fromhex("051122"), "cobs"),
        ("cobs-zero-inside", good_poll[:3] + b"\x00" + good_poll[4:], "cobs"),
        ("truncated-packet", good_poll[:-1], "cobs"),
        ("too-short-for-a-frame", cobs.encode(bytes.fromhex("110005ab")), "length"),
        ("bit-flipped", bytes(flipped), "crc"),
        ("truncated-frame-recoded", _packet(poll[:-1], crc), "crc"),
        ("crc-little-endian", cobs.encode(poll + crc.to_bytes(2, "little")), "crc"),
        ("crc-init-ffff", _packet(poll, _crc_with_init(poll, 0xFFFF)), "crc"),
        ("version-0", _packet(bytes([0x01]) + poll[1:]), "version"),
        ("version-2", _packet(bytes([0x21]) + poll[1:]), "version"),
        ("version-15", _packet(bytes([0xF8]) + status[1:]), "version"),
        ("type-0", _packet(bytes([0x10]) + poll[1:]), "type"),
        ("type-2", _packet(bytes([0x12]) + poll[1:]), "type"),
        ("type-b", _packet(bytes([0x1B]) + status[1:]), "type"),
        ("type-f", _packet(bytes([0x1F]) + status[1:]), "type"),
        ("poll-control-bit-3-set", _packet(poll[:-1] + b"\x0c"), "value"),
        ("poll-control-bit-7-set", _packet(poll[:-1] + b"\x80"), "value"),
        ("poll-too-long", _packet(poll + b"\x00"), "length"),
        ("poll-too-short", _packet(poll[:-1]), "length"),
        ("status-too-short", _packet(status[:-1]), "length"),
        ("text-length-byte-too-big", _packet(bytes.fromhex("130005") + b"\x05abcd"), "length"),
        ("text-length-byte-too-small", _packet(bytes.fromhex("130005") + b"\x03abcd"), "length"),
        ("text-without-length-byte", _packet(bytes.fromhex("130005")), "length"),
        ("text-longer-than-24", _packet(bytes.fromhex("130005") + b"\x19" + b"A" * 25), "length"),
        ("text-length-byte-ff", _packet(bytes.fromhex("130005") + b"\xff"), "length"),
        ("text-invalid-utf8", _packet(bytes.fromhex("130005") + b"\x03\xd0\x9f\xd0"), "value"),
        ("text-overlong-utf8", _packet(bytes.fromhex("130005") + b"\x02\xc0\xaf"), "value"),
        ("text-utf16-surrogate", _packet(bytes.fromhex("130005") + b"\x03\xed\xa0\x80"), "value"),
        ("time-too-short", _packet(bytes.fromhex("14ffff") + bytes(5)), "length"),
        ("discover-no-slots-byte", _packet(bytes.fromhex("15ffff")), "length"),
        ("assign-serial-too-short", _packet(bytes.fromhex("16ffff") + bytes(9)), "length"),
        ("session-nonce-too-short", _packet(bytes.fromhex("170005a1b2c3")), "length"),
        ("event-mac-too-short", _packet(event[:-1]), "length"),
        ("event-length-byte-disagrees", _packet(event[:8] + b"\x02" + event[9:]), "length"),
        (
            "event-data-longer-than-10",
            _packet(event[:8] + b"\x0b" + event[9:10] + bytes(10) + event[10:]),
            "length",
        ),
        ("hello-too-short", _packet(bytes.fromhex("1a0000") + bytes(10)), "length"),
    ]


def _fields(frame: p.Frame) -> dict[str, Any]:
    """A frame's fields as JSON: numbers, hex strings for bytes, text for TEXT."""
    match frame:
        case p.Poll(address, ack, lights, beep, identify):
            return {
                "address": address,
                "ack": ack,
                "lights": int(lights),
                "beep": beep,
                "identify": identify,
            }
        case p.Text(address, text):
            return {"address": address, "text": text}
        case p.Time(unix_ms, address):
            return {"address": address, "unix_ms": unix_ms}
        case p.Discover(slots, address):
            return {"address": address, "slots": slots}
        case p.Assign(serial, new_address, address):
            return {"address": address, "serial": serial.hex(), "new_address": new_address}
        case p.Session(address, nonce):
            return {"address": address, "nonce": nonce.hex()}
        case p.Status(address, inputs, faults):
            return {"address": address, "inputs": int(inputs), "faults": int(faults)}
        case p.Event(address, counter, kind, data, tag):
            return {
                "address": address,
                "counter": counter,
                "kind": kind,
                "data": data.hex(),
                "mac": tag.hex(),
            }
        case p.Hello(address, serial, (major, minor), hardware):
            return {
                "address": address,
                "serial": serial.hex(),
                "firmware": [major, minor],
                "hardware": hardware,
            }
    raise TypeError(f"{frame!r} is not a frame")


def _vector(name: str, frame: p.Frame) -> dict[str, Any]:
    covered = p.covered_bytes(frame)
    entry: dict[str, Any] = {
        "name": name,
        "type": p.FrameType(covered[0] & 0x0F).name,
        "fields": _fields(frame),
        "covered": covered.hex(),
        "crc": p.CRC16.checksum(covered).to_bytes(2, "big").hex(),
        "wire": p.encode(frame).hex(),
    }
    if isinstance(frame, p.Event):
        body = p.event_body(frame.address, frame.counter, frame.kind, frame.data)
        entry["mac_input"] = (NONCE + body).hex()
        entry["mac"] = p.mac(KEY, NONCE, body).hex()
    return entry


def build() -> dict[str, Any]:
    """The whole vector file as a JSON-ready dict."""
    return {
        "version": p.VERSION,
        "description": (
            "Test vectors of the seat consoles' wire protocol, version 1"
            " (docs/console-protocol.md). Hex strings are bytes in wire order."
            " 'covered' is header and body (what the CRC covers), 'wire' the COBS-encoded"
            " frame with its 0x00 delimiter. EVENT 'mac' is the first 8 bytes of"
            " AES-CMAC(key, mac_input), mac_input = nonce || the covered bytes before the tag."
            " 'invalid' packets have no delimiter; 'reason' is the decoder's error code."
        ),
        "crc": {
            "width": 16,
            "poly": "0x5935",
            "poly_koopman": "0xac9a",
            "init": "0x0000",
            "refin": False,
            "refout": False,
            "xorout": "0x0000",
            "byte_order": "big-endian",
            "check": f"{p.CRC16.checksum(b'123456789'):#06x}",
        },
        "key": KEY.hex(),
        "nonce": NONCE.hex(),
        "frames": [_vector(name, frame) for name, frame in FRAMES],
        "invalid": [
            {"name": name, "packet": packet.hex(), "reason": reason}
            for name, packet, reason in _invalid()
        ],
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    PATH.write_text(dumps(build()), encoding="utf-8")
    print(f"wrote {PATH}")
