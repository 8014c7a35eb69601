"""The consoles' keys: which AES-128 key each console (by its 8-byte serial number) signs its
events with. The bus master reads them from a TOML file readable by its owner only:

    [keys]
    "53494d0000000001" = "00112233445566778899aabbccddeeff"

(serial: 16 hex digits, key: 32 hex digits). `derive_key` is the one place where the simulator's
demonstration keys come from, so that a demo's keys file and its simulated consoles agree.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path

from hardware import protocol

_HEX = frozenset("0123456789abcdefABCDEF")


class KeysFileError(ValueError):
    """The keys file cannot be read or holds an entry that is not a serial and a key."""


def new_key() -> bytes:
    """A fresh random console key."""
    return os.urandom(protocol.KEY_LEN)


def derive_key(seed: bytes, serial: bytes) -> bytes:
    """A key determined by `seed` and the console's serial: for demonstrations and tests only
    (whoever knows the seed knows every key)."""
    digest = hmac.new(seed, b"council-voting console key\x00" + serial, hashlib.sha256).digest()
    return digest[: protocol.KEY_LEN]


def _hex(text: object, digits: int) -> bytes | None:
    if not isinstance(text, str) or len(text) != digits or not set(text) <= _HEX:
        return None
    return bytes.fromhex(text)


def load_keys(path: str | os.PathLike[str]) -> dict[bytes, bytes]:
    """serial → key from the `[keys]` table of the TOML file at `path`, or KeysFileError naming
    the file and the entry at fault."""
    where = os.fspath(path)
    try:
        with open(where, "rb") as file:
            document = tomllib.load(file)
    except OSError as error:
        raise KeysFileError(f"{where}: cannot read the keys file: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise KeysFileError(f"{where}: not valid TOML: {error}") from None
    table = document.get("keys")
    if not isinstance(table, dict):
        raise KeysFileError(f"{where}: no [keys] table (serial = key, in hex)")
    keys: dict[bytes, bytes] = {}
    for name, value in table.items():
        serial = _hex(name, 2 * protocol.SERIAL_LEN)
        if serial is None:
            raise KeysFileError(
                f"{where}: [keys] entry {name!r}: a serial number is "
                f"{2 * protocol.SERIAL_LEN} hex digits"
            )
        key = _hex(value, 2 * protocol.KEY_LEN)
        if key is None:
            raise KeysFileError(
                f"{where}: [keys] entry {name!r}: the key must be a string of "
                f"{2 * protocol.KEY_LEN} hex digits"
            )
        if serial in keys:
            raise KeysFileError(f"{where}: [keys] entry {name!r}: this serial is listed twice")
        keys[serial] = key
    return keys


def write_keys(path: str | os.PathLike[str], keys: Mapping[bytes, bytes]) -> None:
    """Write `keys` (serial → key) to `path` as `load_keys` reads it, readable by the owner only
    (mode 0600, also when the file existed); the file is replaced whole or not at all."""
    lines = ["# The seat consoles' keys: serial number = AES-128 key (hex). Keep secret.", "[keys]"]
    for serial, key in sorted(keys.items()):
        if len(serial) != protocol.SERIAL_LEN or len(key) != protocol.KEY_LEN:
            raise ValueError(
                f"serial {serial.hex()}: a serial is {protocol.SERIAL_LEN} bytes and a key "
                f"{protocol.KEY_LEN} bytes"
            )
        lines.append(f'"{serial.hex()}" = "{key.hex()}"')
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
