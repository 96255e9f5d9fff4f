"""Randomness as a parameter (docs/contributing.md §2).

Every function that needs randomness takes a `RandomSource`. `SystemRandom` draws from the
operating system (`secrets`); `DeterministicRandom` expands a seed with SHAKE-256 so tests,
vectors and simulations can be replayed exactly. Deterministic randomness must never be used
for real elections.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Protocol

__all__ = ["DeterministicRandom", "RandomSource", "SystemRandom", "system_random"]


class RandomSource(Protocol):
    def randbelow(self, n: int) -> int:
        """A uniform integer in [0, n)."""
        ...

    def randbits(self, k: int) -> int:
        """A uniform integer in [0, 2^k)."""
        ...

    def randbytes(self, n: int) -> bytes:
        """n uniform bytes."""
        ...


class SystemRandom:
    """The operating system's CSPRNG."""

    def randbelow(self, n: int) -> int:
        return secrets.randbelow(n)

    def randbits(self, k: int) -> int:
        return secrets.randbits(k) if k > 0 else 0

    def randbytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)


system_random = SystemRandom()


class DeterministicRandom:
    """A reproducible stream: SHAKE-256(seed ‖ counter) blocks. For tests and simulations only."""

    def __init__(self, seed: bytes | str | int) -> None:
        if isinstance(seed, int):
            seed = seed.to_bytes(max(16, (seed.bit_length() + 8) // 8), "big", signed=True)
        if isinstance(seed, str):
            seed = seed.encode("utf-8")
        self._seed = b"tohyo/deterministic-random/v1" + seed
        self._counter = 0
        self._buffer = b""

    def randbytes(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.shake_256(self._seed + self._counter.to_bytes(8, "big")).digest(4096)
            self._counter += 1
            self._buffer += block
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def randbits(self, k: int) -> int:
        if k <= 0:
            return 0
        value = int.from_bytes(self.randbytes((k + 7) // 8), "big")
        return value >> (8 * ((k + 7) // 8) - k)

    def randbelow(self, n: int) -> int:
        if n <= 0:
            raise ValueError("n must be positive")
        k = n.bit_length()
        while True:
            value = self.randbits(k)
            if value < n:
                return value
