"""Sealed ballots: a secret ballot's choices stored so that only one server process's memory can
count them, and only until the close.

When a secret ballot opens, the process that opens it (its *owner*) makes a fresh key pair
(X25519) and keeps the private key in memory only: never in the database, a file or a log. The
public key goes on the vote's row. A cast, in whichever server process it arrives, seals the
choice to that public key (HPKE, RFC 9180: X25519, HKDF-SHA256, ChaCha20-Poly1305, bound to the
vote by its `info`) and stores the sealed ballot beside the caster's participation row. Every
sealed ballot has the same size and is random: without the private key it tells nothing, to
anyone who reads the database files, the write-ahead log, a dump or a log.

Both the public key and every sealed ballot carry a code (HMAC-SHA-256, 16 bytes) made with the
journal's key, which the database does not hold: whoever can write the database can neither put
a key of their own in the ballot's place (every later cast would be sealed to them) nor add a
sealed ballot of their own making (the published totals would then tell the others' choices).

At the close the owner opens the vote's sealed ballots, counts them, writes the three totals,
deletes the sealed ballots and forgets the private key: from then on even the sealed copies left
in old pages or logs can never be opened. If the owner dies before the close, the key dies with
it and the ballot must be held again (docs/secret-ballot.md).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import Counter
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
#: One byte per choice: every sealed ballot is the same size.
_CODES = {"for": b"F", "against": b"A", "abstain": b"U"}
_CHOICES = {code: choice for choice, code in _CODES.items()}
_TAG = 16  # bytes of the code that authenticates a key or a sealed ballot
#: The public key as stored: 32 bytes and its code.
KEY_SIZE = 32 + _TAG
#: A sealed ballot as stored: a 32-byte encapsulated key, the choice's byte, a 16-byte AEAD tag,
#: and its code.
SEALED_SIZE = 32 + 1 + 16 + _TAG


class NotSealable(Exception):
    """A ballot's stored key that is not the one its owner made (a damaged or forged row)."""


class Unopenable(Exception):
    """Sealed ballots that this key cannot open: forged, damaged, or of another vote."""


def _info(vote_id: int) -> bytes:
    return f"voting secret ballot {vote_id}".encode()


def _code(mac_key: bytes, what: bytes, vote_id: int, data: bytes) -> bytes:
    message = what + vote_id.to_bytes(8, "big") + data
    return hmac.new(mac_key, message, hashlib.sha256).digest()[:_TAG]


def _checked(mac_key: bytes, what: bytes, vote_id: int, stored: bytes) -> bytes | None:
    data, tag = stored[:-_TAG], stored[-_TAG:]
    good = hmac.compare_digest(tag, _code(mac_key, what, vote_id, data))
    return data if good else None


def seal(stored_key: bytes, vote_id: int, choice: str, mac_key: bytes) -> bytes:
    """The sealed ballot of `choice` in vote `vote_id`, as stored: any server process makes it,
    from the vote's stored key (whose code it checks first)."""
    public = _checked(mac_key, b"key", vote_id, bytes(stored_key))
    if public is None or len(public) != 32:
        raise NotSealable(
            f"secret ballot {vote_id}'s key is not the one its server made: the record was "
            "changed outside the application"
        )
    sealed = _SUITE.encrypt(
        _CODES[choice], X25519PublicKey.from_public_bytes(public), info=_info(vote_id)
    )
    return sealed + _code(mac_key, b"ballot", vote_id, sealed)


class BallotKeys:
    """The private keys of the secret ballots this process owns, in memory only."""

    def __init__(self) -> None:
        self._keys: dict[int, X25519PrivateKey] = {}
        self._lock = threading.Lock()

    @staticmethod
    def make(vote_id: int, mac_key: bytes) -> tuple[X25519PrivateKey, bytes]:
        """A fresh key pair for vote `vote_id`: the private key (to `keep` once the ballot's
        opening has committed) and the public key as stored."""
        key = X25519PrivateKey.generate()
        public = key.public_key().public_bytes_raw()
        return key, public + _code(mac_key, b"key", vote_id, public)

    def keep(self, vote_id: int, key: X25519PrivateKey) -> None:
        with self._lock:
            self._keys[vote_id] = key

    def holds(self, vote_id: int) -> bool:
        with self._lock:
            return vote_id in self._keys

    def count(self, vote_id: int, sealed: Iterable[bytes], mac_key: bytes) -> Counter[str]:
        """Open the vote's sealed ballots (as stored) and count each choice. KeyError when this
        process does not hold the vote's key; Unopenable when one of them is not a ballot made
        for this vote by a server process, or does not open."""
        with self._lock:
            key = self._keys[vote_id]
        counts: Counter[str] = Counter({choice: 0 for choice in _CODES})
        info = _info(vote_id)
        for one in sealed:
            opened = _checked(mac_key, b"ballot", vote_id, bytes(one))
            if opened is None:
                raise Unopenable(
                    f"a sealed ballot of secret ballot {vote_id} was not made by a server: the "
                    "record was changed outside the application"
                )
            try:
                counts[_CHOICES[_SUITE.decrypt(opened, key, info=info)]] += 1
            except (InvalidTag, KeyError, ValueError) as error:
                raise Unopenable(
                    f"a sealed ballot of secret ballot {vote_id} does not open with its key "
                    f"({error.__class__.__name__})"
                ) from None
        return counts

    def forget(self, vote_id: int) -> None:
        """Drop the vote's private key (after its close or annulment has committed)."""
        with self._lock:
            self._keys.pop(vote_id, None)

    def held(self) -> set[int]:
        with self._lock:
            return set(self._keys)

    def clear(self) -> None:
        """Forget every key (the process stops)."""
        with self._lock:
            self._keys.clear()
