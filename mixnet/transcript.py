"""The Fiat–Shamir transcript (docs/protocol.md §3).

One type for every proof. A transcript is a running SHA-256 over the TLV encoding of labelled
values; it starts with the protocol version and a caller-supplied context (election
fingerprint, role, party index). A challenge is SHAKE-256 over (domain, the current digest,
the challenge's label); it is then absorbed too, so later challenges depend on it. Every
proof absorbs its own label, the group description and its whole statement before any
commitment.

All domain labels are constants of `Label`, here and nowhere else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, Final

from mixnet.encoding import TAG_LIST, encode

__all__ = ["Label", "Transcript"]


class Label:
    """Domain-separation labels, one per proof and per challenge (docs/protocol.md §3.2)."""

    TRANSCRIPT: Final = "tohyo/transcript/v1"
    CHALLENGE: Final = "tohyo/challenge/v1"
    GENERATORS: Final = "tohyo/generators/v1"
    # proofs
    SCHNORR: Final = "tohyo/proof/schnorr/v1"
    CHAUM_PEDERSEN: Final = "tohyo/proof/chaum-pedersen/v1"
    CHAUM_PEDERSEN_BATCH: Final = "tohyo/proof/chaum-pedersen-batch/v1"
    ENCRYPTION: Final = "tohyo/proof/encryption-randomness/v1"
    DECRYPTION: Final = "tohyo/proof/decryption/v1"
    SHUFFLE: Final = "tohyo/proof/shuffle-tw/v1"
    # challenges
    C: Final = "c"
    BATCH: Final = "batch"
    SHUFFLE_U: Final = "u"
    SHUFFLE_C: Final = "c"


class Transcript:
    """A Fiat–Shamir transcript. Copy with `fork()` to derive several proofs from one context."""

    __slots__ = ("_hash",)

    def __init__(self, context: Any = b"") -> None:
        self._hash = hashlib.sha256()
        self._hash.update(encode([Label.TRANSCRIPT, context]))

    def fork(self) -> Transcript:
        twin = Transcript.__new__(Transcript)
        twin._hash = self._hash.copy()
        return twin

    def append(self, label: str, value: Any) -> None:
        """Absorb `label` and the canonical encoding of `value`."""
        self._hash.update(encode(label))
        self._hash.update(encode(value))

    def append_list(self, label: str, values: Iterable[Any], count: int) -> None:
        """Absorb a long list item by item; equal to `append(label, list(values))`."""
        self._hash.update(encode(label))
        self._hash.update(bytes([TAG_LIST]) + count.to_bytes(8, "big"))
        seen = 0
        for v in values:
            self._hash.update(encode(v))
            seen += 1
        if seen != count:
            raise ValueError("list length differs from its declared count")

    def _expand(self, label: str, nbytes: int) -> bytes:
        digest = self._hash.digest()
        out = hashlib.shake_256(encode([Label.CHALLENGE, digest, label])).digest(nbytes)
        self.append(label, out)
        return out

    def challenge_bits(self, label: str, bits: int) -> int:
        """A uniform integer in [0, 2^bits)."""
        nbytes = (bits + 7) // 8
        return int.from_bytes(self._expand(label, nbytes), "big") >> (8 * nbytes - bits)

    def challenge_mod(self, label: str, modulus: int) -> int:
        """An integer in [0, modulus), from |modulus| + 128 bits (statistically uniform)."""
        return self.challenge_bits(label, modulus.bit_length() + 128) % modulus

    def challenge_vector(self, label: str, count: int, bits: int) -> list[int]:
        """`count` independent `bits`-bit challenges from one expansion."""
        nbytes = (bits + 7) // 8
        block = self._expand(label, count * nbytes)
        shift = 8 * nbytes - bits
        return [
            int.from_bytes(block[i * nbytes : (i + 1) * nbytes], "big") >> shift
            for i in range(count)
        ]
