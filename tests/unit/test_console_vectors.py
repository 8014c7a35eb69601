"""The consoles' test vectors (docs/console-protocol-vectors.json) and the worked examples of the
specification (docs/console-protocol.md) agree with the codec (hardware/protocol.py).

The checks do not trust the generator (hardware/vectors.py): frames are built from the fields
written in the file, and the CRC, the COBS encoding and the AES-CMAC are recomputed here by their
own means (a bit-by-bit CRC, a plain COBS encoder, the `cryptography` CMAC), so a codec that
drifted from the file, or a file that drifted from the document, fails.

The worked examples are the fenced code blocks tagged `wire` in the specification; each line is
`name: value`. `vector` names the entry of the vector file the example shows; `type` is a frame
type's name; `fields` is `field=value` pairs (numbers in decimal or 0x-hex or as `|`-joined flag
names, bytes as hex, TEXT's text in double quotes, firmware as `major.minor`); `key`, `nonce`,
`covered`, `crc`, `mac_input`, `mac`, `cobs` and `wire` are hex (spaces allowed). Lines starting
with `#` are comments.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from hardware import protocol as p

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS = json.loads((DOCS / "console-protocol-vectors.json").read_text(encoding="utf-8"))
SPEC = (DOCS / "console-protocol.md").read_text(encoding="utf-8")
KEY = bytes.fromhex(VECTORS["key"])
NONCE = bytes.fromhex(VECTORS["nonce"])
REASONS = {"empty", "length", "cobs", "crc", "version", "type", "value"}


# --- the three algorithms, written again from the specification ---------------------------------


def crc16(data: bytes) -> int:
    """CRC-16, polynomial 0x5935 (0xAC9A Koopman), init 0, MSB first, no final XOR."""
    register = 0
    for byte in data:
        for bit in range(7, -1, -1):
            feedback = ((register >> 15) & 1) ^ ((byte >> bit) & 1)
            register = (register << 1) & 0xFFFF
            if feedback:
                register ^= 0x5935
    return register


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing (for frames shorter than 254 bytes)."""
    assert len(data) < 254
    out = bytearray()
    for chunk in data.split(b"\x00"):
        out += bytes([len(chunk) + 1]) + chunk
    return bytes(out)


def cobs_decode(packet: bytes) -> bytes | None:
    """The inverse of cobs_encode (a packet without its delimiter); None if it is not COBS."""
    out, index = bytearray(), 0
    while index < len(packet):
        code = packet[index]
        if not code or index + code > len(packet) or 0 in packet[index + 1 : index + code]:
            return None
        out += packet[index + 1 : index + code]
        index += code
        if index < len(packet):
            out.append(0)
    return bytes(out)


def cmac64(key: bytes, message: bytes) -> bytes:
    signer = CMAC(algorithms.AES(key))
    signer.update(message)
    return signer.finalize()[:8]


def test_the_algorithms_written_here_are_the_standard_ones() -> None:
    """The check values of the three: CRC over "123456789" (its bit-by-bit form against the
    codec's table), COBS (Cheshire and Baker's examples) and AES-CMAC (RFC 4493, example 2)."""
    assert crc16(b"123456789") == p.CRC16.checksum(b"123456789") == 0x5D38
    assert cobs_encode(b"\x00") == b"\x01\x01"
    assert cobs_encode(b"\x11\x22\x00\x33") == b"\x03\x11\x22\x02\x33"
    message = bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")
    assert cmac64(KEY, message) == bytes.fromhex("070a16b46b4d4144")  # RFC 4493's key
    assert p.mac(KEY, message[:4], message[4:]) == bytes.fromhex("070a16b46b4d4144")


# --- frames from written fields ------------------------------------------------------------------

FLAGS: dict[str, Any] = {
    "lights": p.Lights,
    "inputs": p.Inputs,
    "faults": p.Faults,
    "kind": p.EventKind,
}
HEX_FIELDS = {"serial", "nonce", "data", "mac"}


def number(name: str, value: int | str) -> int:
    """A number written as one (JSON), as decimal or 0x-hex text, or as flag names joined by |."""
    if isinstance(value, int):
        return value
    try:
        return int(value, 0)
    except ValueError:
        total = 0
        for part in value.split("|"):
            total |= int(FLAGS[name][part])
        return total


def frame_from(type_name: str, fields: dict[str, Any]) -> p.Frame:
    """The frame the written fields describe (every field of the type must be there)."""
    hexes = {k: bytes.fromhex(v) for k, v in fields.items() if k in HEX_FIELDS}
    num = {k: number(k, v) for k, v in fields.items() if k not in HEX_FIELDS | {"text", "firmware"}}
    match type_name:
        case "POLL":
            identify = num["identify"]
            assert identify in (0, 1), f"identify is 0 or 1 (false or true), not {identify}"
            return p.Poll(
                num["address"], num["ack"], p.Lights(num["lights"]), num["beep"], bool(identify)
            )
        case "TEXT":
            return p.Text(num["address"], fields["text"])
        case "TIME":
            return p.Time(num["unix_ms"], num["address"])
        case "DISCOVER":
            return p.Discover(num["slots"], num["address"])
        case "ASSIGN":
            return p.Assign(hexes["serial"], num["new_address"], num["address"])
        case "SESSION":
            return p.Session(num["address"], hexes["nonce"])
        case "STATUS":
            return p.Status(num["address"], p.Inputs(num["inputs"]), p.Faults(num["faults"]))
        case "EVENT":
            return p.Event(num["address"], num["counter"], num["kind"], hexes["data"], hexes["mac"])
        case "HELLO":
            major, minor = fields["firmware"]
            return p.Hello(num["address"], hexes["serial"], (major, minor), num["hardware"])
    raise AssertionError(f"no frame type {type_name}")


# --- the vector file -----------------------------------------------------------------------------

FRAMES = VECTORS["frames"]
INVALID = VECTORS["invalid"]


def test_the_file_covers_what_it_promises() -> None:
    assert VECTORS["version"] == p.VERSION == 1
    crc = VECTORS["crc"]
    assert (crc["width"], int(crc["poly"], 16), int(crc["poly_koopman"], 16)) == (
        16,
        0x5935,
        0xAC9A,
    )
    assert int(crc["poly_koopman"], 16) == (0x10000 | int(crc["poly"], 16)) >> 1
    assert (int(crc["init"], 16), int(crc["xorout"], 16), crc["refin"], crc["refout"]) == (
        0,
        0,
        False,
        False,
    )
    assert crc["byte_order"] == "big-endian"
    assert int(crc["check"], 16) == crc16(b"123456789")
    assert len(FRAMES) >= 30 and len(INVALID) >= 15
    assert len({v["name"] for v in FRAMES + INVALID}) == len(FRAMES) + len(INVALID)
    assert {v["type"] for v in FRAMES} == {t.name for t in p.FrameType}
    assert {v["reason"] for v in INVALID} == REASONS
    addresses = {v["fields"]["address"] for v in FRAMES}
    assert {p.UNASSIGNED, p.BROADCAST} <= addresses
    texts = [v["fields"]["text"] for v in FRAMES if v["type"] == "TEXT"]
    assert "" in texts
    assert any(len(t.encode()) == p.MAX_TEXT and re.search("[а-яіїєґ]", t, re.I) for t in texts)
    events = [v["fields"] for v in FRAMES if v["type"] == "EVENT"]
    assert {len(bytes.fromhex(e["data"])) for e in events} >= {0, 1, 3, 4, 7, p.MAX_EVENT_DATA}
    assert {e["kind"] for e in events} == {int(k) for k in p.EventKind}
    assert any(v["fields"].get("unix_ms") == (1 << 48) - 1 for v in FRAMES)
    assert any(v["fields"].get("lights") == 0xFF and v["fields"]["beep"] == 3 for v in FRAMES)
    polls = [v for v in FRAMES if v["type"] == "POLL"]
    assert {v["fields"]["identify"] for v in polls} == {False, True}
    assert {bytes.fromhex(v["covered"])[5] for v in polls} >= {0x00, 0x03, 0x04, 0x07}
    # refused for what it says, not for a CRC or a length that disagrees: a reserved POLL
    # control bit, and a TEXT whose length byte exceeds 24 but whose body has that length
    decoded = [(v["reason"], cobs_decode(bytes.fromhex(v["packet"]))) for v in INVALID]
    sound = [
        (why, raw[:-2])
        for why, raw in decoded
        if raw is not None and len(raw) >= 5 and crc16(raw[:-2]) == int.from_bytes(raw[-2:], "big")
    ]
    assert any(why == "value" and c[0] == 0x11 and len(c) == 6 and c[5] & 0xF8 for why, c in sound)
    assert any(
        why == "length" and c[0] == 0x13 and len(c) > 4 and len(c) == 4 + c[3] > 4 + p.MAX_TEXT
        for why, c in sound
    )
    with_zeros = [v for v in FRAMES if 0 in bytes.fromhex(v["covered"] + v["crc"])]
    assert len(with_zeros) >= 10  # COBS has work to do


@pytest.mark.parametrize("vector", FRAMES, ids=lambda v: v["name"])
def test_a_vector_decodes_to_its_fields_and_encodes_to_its_bytes(vector: dict[str, Any]) -> None:
    frame = frame_from(vector["type"], vector["fields"])
    covered = bytes.fromhex(vector["covered"])
    crc = bytes.fromhex(vector["crc"])
    wire = bytes.fromhex(vector["wire"])
    assert crc16(covered).to_bytes(2, "big") == crc
    assert cobs_encode(covered + crc) + b"\x00" == wire
    assert wire.endswith(b"\x00") and b"\x00" not in wire[:-1]
    assert covered[0] == p.VERSION << 4 | p.FrameType[vector["type"]]
    assert int.from_bytes(covered[1:3], "big") == vector["fields"]["address"]
    assert len(covered) <= p.MAX_COVERED and len(wire) - 1 <= p.MAX_PACKET
    assert p.decode(wire[:-1]) == frame
    assert p.covered_bytes(frame) == covered
    assert p.encode(frame) == wire


@pytest.mark.parametrize(
    "vector", [v for v in FRAMES if v["type"] == "EVENT"], ids=lambda v: v["name"]
)
def test_an_event_vector_carries_the_mac_of_its_bytes(vector: dict[str, Any]) -> None:
    covered = bytes.fromhex(vector["covered"])
    mac_input = bytes.fromhex(vector["mac_input"])
    tag = bytes.fromhex(vector["mac"])
    assert mac_input == NONCE + covered[: -p.MAC_LEN]
    assert covered[-p.MAC_LEN :] == tag == bytes.fromhex(vector["fields"]["mac"])
    assert cmac64(KEY, mac_input) == tag
    event = p.decode(bytes.fromhex(vector["wire"])[:-1])
    assert isinstance(event, p.Event)
    assert p.event_is_authentic(KEY, NONCE, event)
    assert not p.event_is_authentic(KEY, bytes(4), event)


@pytest.mark.parametrize("vector", INVALID, ids=lambda v: v["name"])
def test_an_invalid_packet_is_refused_for_its_reason(vector: dict[str, Any]) -> None:
    packet = bytes.fromhex(vector["packet"])
    assert vector["reason"] in REASONS
    with pytest.raises(p.ProtocolError) as refused:
        p.decode(packet)
    assert refused.value.reason == vector["reason"]


def test_the_file_is_what_the_generator_writes() -> None:
    """`python -m hardware.vectors` was run after the last change of the codec or the vectors."""
    from hardware import vectors

    assert vectors.dumps(vectors.build()) == (DOCS / "console-protocol-vectors.json").read_text(
        encoding="utf-8"
    )


# --- the worked examples of the specification ----------------------------------------------------


def wire_blocks(text: str) -> list[dict[str, str]]:
    """Every fenced block tagged `wire`, as {name: value} of its `name: value` lines."""
    blocks = []
    for body in re.findall(r"^```wire\n(.*?)^```", text, re.S | re.M):
        block: dict[str, str] = {}
        for line in body.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, sep, value = line.partition(":")
            assert sep, f"not a `name: value` line: {line!r}"
            assert name.strip() not in block, f"{name} twice in one block"
            block[name.strip()] = value.strip()
        blocks.append(block)
    return blocks


def doc_fields(text: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for pair in shlex.split(text):
        name, _, value = pair.partition("=")
        fields[name] = [int(x) for x in value.split(".")] if name == "firmware" else value
    return fields


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


EXAMPLES = wire_blocks(SPEC)


def test_the_specification_works_the_examples_it_must() -> None:
    kinds = []
    for block in EXAMPLES:
        fields = doc_fields(block["fields"])
        kind = number("kind", fields["kind"]) if "kind" in fields else None
        size = len(bytes.fromhex(fields.get("data", "")))
        kinds.append((block["type"], kind, size))
    assert ("POLL", None, 0) in kinds and ("STATUS", None, 0) in kinds
    assert ("SESSION", None, 0) in kinds and ("HELLO", None, 0) in kinds
    assert ("EVENT", p.EventKind.KEY_DOWN, 1) in kinds
    assert ("EVENT", p.EventKind.CARD_INSERTED, 7) in kinds
    texts = [doc_fields(b["fields"])["text"] for b in EXAMPLES if b["type"] == "TEXT"]
    assert any(re.search("[а-яіїєґ]", t, re.I) for t in texts)


@pytest.mark.parametrize("block", EXAMPLES, ids=lambda b: f"{b.get('type')}:{b.get('fields')}")
def test_a_worked_example_is_what_the_codec_does(block: dict[str, str]) -> None:
    fields = doc_fields(block["fields"])
    covered = hexbytes(block["covered"])
    wire = hexbytes(block["wire"])
    vector = {v["name"]: v for v in FRAMES}[block["vector"]]
    assert (vector["type"], vector["covered"], vector["wire"]) == (
        block["type"],
        covered.hex(),
        wire.hex(),
    )
    if block["type"] == "EVENT":
        key, nonce = hexbytes(block["key"]), hexbytes(block["nonce"])
        mac_input, tag = hexbytes(block["mac_input"]), hexbytes(block["mac"])
        assert mac_input == nonce + covered[: -p.MAC_LEN]
        assert cmac64(key, mac_input) == tag == covered[-p.MAC_LEN :]
        signed = p.sign_event(
            key,
            nonce,
            number("address", fields["address"]),
            number("counter", fields["counter"]),
            number("kind", fields["kind"]),
            bytes.fromhex(fields["data"]),
        )
        assert signed.mac == tag
        fields["mac"] = tag.hex()
    frame = frame_from(block["type"], fields)
    assert hexbytes(block["crc"]) == crc16(covered).to_bytes(2, "big")
    assert hexbytes(block["cobs"]) + b"\x00" == wire
    assert p.covered_bytes(frame) == covered
    assert p.encode(frame) == wire
    assert p.decode(wire[:-1]) == frame


def test_the_specification_states_the_check_value_and_the_limits() -> None:
    assert f"0x{crc16(b'123456789'):04X}" in SPEC
    assert "console-protocol-vectors.json" in SPEC
    longest = max(len(bytes.fromhex(v["wire"])) for v in FRAMES)
    assert f"{longest} bytes" in SPEC
