"""The seat consoles' codec (hardware/protocol.py): every frame survives the wire, nothing else
decodes, and the decoder raises only its own error whatever it is fed."""

from __future__ import annotations

import pytest
from cobs import cobs
from hypothesis import given
from hypothesis import strategies as st

from hardware import protocol as p

KEY = bytes(range(16))
NONCE = b"\x10\x20\x30\x40"

FRAMES: list[p.Frame] = [
    p.Poll(5, ack=1, lights=p.Lights.FOR | p.Lights.VOTE_OPEN, beep=2),
    p.Poll(5, ack=0, lights=p.Lights.REGISTERED, beep=3, identify=True),
    p.Text(7, "Пит. 12 · 01:30"),
    p.Time(1_765_000_000_000),
    p.Discover(16),
    p.Assign(bytes(range(8)), 42),
    p.Session(3, NONCE),
    p.Status(3, p.Inputs.CARD | p.Inputs.FOR_HELD, p.Faults.MICROPHONE),
    p.sign_event(KEY, NONCE, 3, 1, p.EventKind.CARD_INSERTED, bytes.fromhex("04a1b2c3d4e5f6")),
    p.Hello(0, b"SN000042", (1, 4), 2),
]


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: type(f).__name__)
def test_every_frame_type_comes_back_as_sent(frame: p.Frame) -> None:
    wire = p.encode(frame)
    assert wire.endswith(b"\x00") and b"\x00" not in wire[:-1]
    assert p.decode(wire[:-1]) == frame
    assert len(p.covered_bytes(frame)) <= p.MAX_COVERED


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: type(f).__name__)
def test_no_single_or_double_bit_error_decodes(frame: p.Frame) -> None:
    packet = bytearray(p.encode(frame)[:-1])
    bits = len(packet) * 8
    for first in range(bits):
        for second in range(first, bits, 7):  # every single flip, and a spread of pairs
            damaged = bytearray(packet)
            damaged[first // 8] ^= 1 << first % 8
            if second != first:
                damaged[second // 8] ^= 1 << second % 8
            with pytest.raises(p.ProtocolError):
                p.decode(bytes(damaged))


def test_poll_control_byte_carries_beep_and_identify_and_nothing_else() -> None:
    """Bits 1-0 the beep counter, bit 2 IDENTIFY; bits 3-7 refused (with a right CRC)."""
    for beep in range(4):
        for identify in (False, True):
            poll = p.Poll(9, 7, p.Lights.FOR, beep, identify)
            covered = p.covered_bytes(poll)
            assert covered[5] == beep | (0x04 if identify else 0)
            assert p.decode(p.encode(poll)[:-1]) == poll
    assert p.Poll(9) == p.Poll(9, identify=False)  # the default: no IDENTIFY
    for bit in range(3, 8):
        packet = cobs_packet(bytes.fromhex("1100090701") + bytes([1 << bit | 0x04]))
        with pytest.raises(p.ProtocolError) as refused:
            p.decode(packet)
        assert refused.value.reason == "value"
    with pytest.raises(p.ProtocolError):
        p.encode(p.Poll(9, beep=4))


def test_text_longer_than_24_bytes_is_refused_even_when_its_length_is_consistent() -> None:
    for n in (25, 26):
        packet = cobs_packet(bytes.fromhex("130005") + bytes([n]) + b"A" * n)
        with pytest.raises(p.ProtocolError) as refused:
            p.decode(packet)
        assert refused.value.reason == "length"
    assert p.decode(cobs_packet(bytes.fromhex("130005") + b"\x18" + b"A" * 24)) == p.Text(
        5, "A" * 24
    )


def cobs_packet(covered: bytes) -> bytes:
    """A packet (no delimiter) around `covered`, with its right CRC."""
    return bytes(cobs.encode(covered + p.CRC16.checksum(covered).to_bytes(2, "big")))


def test_the_crc_has_hamming_distance_5_over_the_longest_frame() -> None:
    """0xAC9A detects every error of 1 to 4 bits in 30 covered bytes and its CRC (Koopman's
    table: HD=5 up to 241 data bits); at 242 bits a 2-bit error slips through, hence MAX_COVERED."""

    def undetected_weight(data_bits: int) -> int | None:
        n = data_bits + 16
        syndromes, r = [], 1
        for _ in range(n):
            syndromes.append(r)
            r <<= 1
            if r & 0x10000:
                r ^= 0x15935
        singles = set(syndromes)
        if len(singles) < n:
            return 2
        pairs: set[int] = set()
        for a in range(n):
            for b in range(a + 1, n):
                x = syndromes[a] ^ syndromes[b]
                if x in singles:
                    return 3
                if x in pairs:
                    return 4
                pairs.add(x)
        return None

    assert undetected_weight(p.MAX_COVERED * 8) is None
    assert undetected_weight(242) == 2


def test_a_forged_or_replayed_event_fails_its_mac() -> None:
    event = p.sign_event(KEY, NONCE, 9, 7, p.EventKind.KEY_DOWN, bytes([p.Key.FOR]))
    assert p.event_is_authentic(KEY, NONCE, event)
    assert not p.event_is_authentic(bytes(16), NONCE, event)  # another key
    assert not p.event_is_authentic(KEY, b"\x00\x00\x00\x01", event)  # another session
    moved = p.Event(10, event.counter, event.kind, event.data, event.mac)  # another seat
    assert not p.event_is_authentic(KEY, NONCE, moved)
    changed = p.Event(9, event.counter, event.kind, bytes([p.Key.AGAINST]), event.mac)
    assert not p.event_is_authentic(KEY, NONCE, changed)


def test_the_splitter_resynchronises_after_noise_and_bounds_a_babbler() -> None:
    splitter = p.FrameSplitter()
    good = p.encode(FRAMES[0])
    packets = splitter.feed(b"\x13\x37garbage" + good[:4]) + splitter.feed(good[4:] + good)
    with pytest.raises(p.ProtocolError):  # the noise spoils the frame it runs into ...
        p.decode(packets[0])
    assert [p.decode(x) for x in packets[1:]] == [FRAMES[0]]  # ... and no more
    assert splitter.feed(b"\xff" * 10_000) == [] and splitter.overruns == 1
    assert [p.decode(x) for x in splitter.feed(b"\x00" + good)] == [FRAMES[0]]


@given(st.binary(max_size=80))
def test_the_decoder_raises_nothing_but_its_own_error(packet: bytes) -> None:
    try:
        frame = p.decode(packet)
    except p.ProtocolError:
        return
    assert p.encode(frame)[:-1] == packet  # what decodes is exactly a frame


@given(st.sampled_from(FRAMES), st.data())
def test_no_truncated_or_reordered_frame_decodes(frame: p.Frame, data: st.DataObject) -> None:
    packet = p.encode(frame)[:-1]
    cut = data.draw(st.integers(0, len(packet) - 1))
    with pytest.raises(p.ProtocolError):
        p.decode(packet[:cut])
    shuffled = data.draw(st.permutations(packet))
    if bytes(shuffled) != packet:
        with pytest.raises(p.ProtocolError):
            p.decode(bytes(shuffled))


def test_frames_encoded_and_decoded_on_many_threads_at_once_keep_their_crc() -> None:
    """The gateway runs a bus master per port and the simulator its own thread: the CRC must not
    depend on what another thread computes at the same moment."""
    import random
    import threading

    failures: list[str] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for counter in range(1, 400):
            data = bytes([rng.randrange(1, 5)])
            event = p.sign_event(KEY, NONCE, 7, counter, p.EventKind.KEY_DOWN, data)
            try:
                assert p.decode(p.encode(event)[:-1]) == event
            except (p.ProtocolError, AssertionError) as error:
                failures.append(f"{seed}/{counter}: {error}")

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
