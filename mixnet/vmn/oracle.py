"""Verificatum's hash functions, pseudo-random generator and random oracle (docs/vmn.md §3).

- Hash: SHA-256, SHA-384 or SHA-512, named as in the protocol info (``<rohash>``, ``<prg>``).
- PRG(s), for a hash H with h-byte output and an h-byte seed s: the stream
  H(s ‖ 0) ‖ H(s ‖ 1) ‖ …, each counter a 4-byte big-endian integer. Random integers of n
  bits are read as ⌈n/8⌉ bytes, big-endian, with the top 8⌈n/8⌉ − n bits cleared.
- RO_n(d), an oracle with n output bits: s = H(⟨n⟩₄ ‖ d), then the first ⌈n/8⌉ bytes of
  PRG(s) with the top bits of the first byte cleared to leave n bits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Final

from mixnet.errors import DecodeError

__all__ = ["HASHES", "Prg", "hash_bytes", "random_oracle"]

#: The hash functions Verificatum names in ``<rohash>`` and ``<prg>``.
HASHES: Final[dict[str, Callable[[bytes], bytes]]] = {
    "SHA-256": lambda data: hashlib.sha256(data).digest(),
    "SHA-384": lambda data: hashlib.sha384(data).digest(),
    "SHA-512": lambda data: hashlib.sha512(data).digest(),
}


def _hash_function(name: str) -> Callable[[bytes], bytes]:
    try:
        return HASHES[name]
    except KeyError:
        raise DecodeError(f"unsupported Verificatum hash function {name!r}") from None


def hash_bytes(name: str, data: bytes) -> bytes:
    return _hash_function(name)(data)


def seed_bytes(name: str) -> int:
    """Bytes of a PRG seed (and of the hash's output)."""
    return len(_hash_function(name)(b""))


class Prg:
    """PRGHeuristic over the named hash, seeded with exactly one hash output's worth of bytes."""

    def __init__(self, name: str, seed: bytes) -> None:
        self._hash = _hash_function(name)
        size = len(self._hash(b""))
        if len(seed) != size:
            raise ValueError(f"a {name} PRG seed has {size} bytes")
        self._seed = bytes(seed)
        self._counter = 0
        self._buffer = bytearray()

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._buffer += self._hash(self._seed + self._counter.to_bytes(4, "big"))
            self._counter += 1
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    def integer(self, bits: int) -> int:
        """A non-negative integer of at most `bits` bits (⌈bits/8⌉ bytes, top bits cleared)."""
        nbytes = (bits + 7) // 8
        return int.from_bytes(self.read(nbytes), "big") & ((1 << bits) - 1)

    def integers(self, count: int, bits: int) -> list[int]:
        return [self.integer(bits) for _ in range(count)]


def random_oracle(name: str, out_bits: int, data: bytes) -> bytes:
    """RO_{out_bits}(data): ⌈out_bits/8⌉ bytes whose value has at most out_bits bits."""
    seed = hash_bytes(name, out_bits.to_bytes(4, "big") + data)
    out = bytearray(Prg(name, seed).read((out_bits + 7) // 8))
    if out_bits % 8:
        out[0] &= 0xFF >> (8 - out_bits % 8)
    return bytes(out)


__all__ += ["seed_bytes"]
