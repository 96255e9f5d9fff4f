"""Prime-order subgroups of Z_p^* over gmpy2: safe-prime and Schnorr groups.

- ``modp-safe``: p = 2q + 1; the subgroup is the quadratic residues. Membership is one
  Legendre symbol; messages are embedded by the QR encoding (any m in [0, q − 1)).
- ``modp-schnorr``: p = 2qr + 1 with q, r prime. Membership is x^q = 1; many elements are
  checked at once by a Legendre symbol each and one random combination raised to q, which is
  sound because the only subgroup orders left after the Legendre test are q, r and qr, with r
  a large prime. Messages use the exponential encoding g^m, decoded by table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

import gmpy2
from gmpy2 import mpz

from mixnet.encoding import hex_to_int, int_to_hex
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups.base import BATCH_BITS, Element, Group
from mixnet.groups.fastexp import fixed_base_table, multi_exp
from mixnet.groups.params import GroupParameters
from mixnet.parallel import run_chunks
from mixnet.rng import RandomSource

__all__ = ["ModpGroup"]

#: Below this many exponentiations a table is not worth building.
MIN_TABLE_USES = 32
#: The generator gets a cached table only for exponents this short (Schnorr groups).
MAX_TABLE_EXPONENT_BITS = 512
#: Elements decoded together share one batched subgroup test from this many on.
MIN_BATCH_DECODE = 2
#: Default bound when decoding exponentially encoded messages.
DEFAULT_MESSAGE_BOUND = 1 << 16


class ModpGroup(Group):
    def __init__(self, params: GroupParameters) -> None:
        self.params = params
        self.name = params.name
        self.family = params.family
        self.p = mpz(params.p)
        self.q = mpz(params.q)
        self.g = mpz(params.g)
        self.order = int(params.q)
        self.security_bits = params.security_bits
        self.production = params.production
        self.element_bytes = (params.p.bit_length() + 7) // 8
        self.scalar_bytes = (params.q.bit_length() + 7) // 8
        self.message_encoding = "qr" if params.family == "modp-safe" else "exponential"
        self._cofactor = mpz((params.p - 1) // params.q)
        self._dlog_table: dict[int, int] = {}
        # a table for g costs bits/8 · 255 products: worth keeping for short exponents only
        self._short_exponents = self.order.bit_length() <= MAX_TABLE_EXPONENT_BITS
        self._generator_uses = 0
        self._description = {
            "family": self.family,
            "name": self.name,
            "p": int_to_hex(params.p, self.element_bytes),
            "q": int_to_hex(params.q, self.scalar_bytes),
            "g": int_to_hex(params.g, self.element_bytes),
            "generation": params.generation,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (ModpGroup, (self.params,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModpGroup) and other.params == self.params

    def __hash__(self) -> int:
        return hash((self.name, self.order))

    # ---- raw operations ----
    def raw_mul(self, a: Any, b: Any) -> Any:
        return a * b % self.p

    def raw_inv(self, a: Any) -> Any:
        return gmpy2.invert(a, self.p)

    def raw_pow(self, a: Any, e: int) -> Any:
        if a == self.g and self._short_exponents:
            return self._generator_pow(e)
        return gmpy2.powmod(a, e, self.p)

    def _generator_pow(self, e: int) -> Any:
        """g^e through a fixed-base table once g has been raised often enough to pay for it."""
        if self._generator_uses < MIN_TABLE_USES:
            self._generator_uses += 1
            return gmpy2.powmod(self.g, e, self.p)
        return fixed_base_table(self.g, self.p, self.order.bit_length()).pow(e % self.order)

    def raw_eq(self, a: Any, b: Any) -> bool:
        return bool(a == b)

    def raw_to_bytes(self, a: Any) -> bytes:
        return int(a).to_bytes(self.element_bytes, "big")

    def raw_identity(self) -> Any:
        return mpz(1)

    def raw_generator(self) -> Any:
        return self.g

    def _cheap_member(self, x: Any) -> bool:
        return bool(0 < x < self.p and gmpy2.legendre(x, self.p) == 1)

    def raw_from_bytes(self, data: bytes) -> Any:
        x = mpz(int.from_bytes(data, "big"))
        if not self._cheap_member(x):
            raise DecodeError(f"not an element of {self.name}: outside the subgroup")
        if self.family == "modp-schnorr" and gmpy2.powmod(x, self.q, self.p) != 1:
            raise DecodeError(f"not an element of {self.name}: x^q ≠ 1")
        return x

    def raw_hash_to_group(self, data: bytes) -> Any:
        nbytes = (self.p.bit_length() + 128 + 7) // 8
        counter = 0
        while True:
            block = hashlib.shake_256(
                b"tohyo/hash-to-group/v1" + counter.to_bytes(4, "big") + data
            ).digest(nbytes)
            x = mpz(int.from_bytes(block, "big")) % self.p
            if self.family == "modp-safe":
                y = x * x % self.p
            else:
                y = gmpy2.powmod(x, self._cofactor, self.p)
            if y > 1:
                return y
            counter += 1

    def description(self) -> dict[str, Any]:
        return dict(self._description)

    def elements_from_hex(
        self,
        texts: Sequence[object],
        rng: RandomSource | None = None,
        executor: Executor | None = None,
    ) -> list[Element]:
        if self.family != "modp-schnorr" or len(texts) < MIN_BATCH_DECODE:
            return [self.element_from_hex(t) for t in texts]
        from mixnet.rng import system_random

        out = []
        for i, text in enumerate(texts):
            try:
                x = mpz(hex_to_int(text, self.element_bytes))
            except DecodeError as exc:
                raise DecodeError(f"element {i}: {exc}") from exc
            if not self._cheap_member(x):
                raise DecodeError(f"element {i} is not in the subgroup")
            out.append(Element(self, x))
        try:
            self.check_members(out, rng or system_random, executor)
        except VerificationError as exc:
            raise DecodeError("an element is outside the order-q subgroup") from exc
        return [Element(self, e.value, checked=True) for e in out]

    # ---- messages ----
    def encode_message(self, m: int) -> Element:
        if self.message_encoding == "qr":
            if not 0 <= m < self.order - 1:
                raise ValueError("message outside [0, q − 1)")
            v = mpz(m + 1)
            x = v if gmpy2.legendre(v, self.p) == 1 else self.p - v
            return Element(self, x)
        if not 0 <= m < self.order:
            raise ValueError("message outside [0, q)")
        return Element(self, gmpy2.powmod(self.g, m, self.p))

    def decode_message(self, element: Element, bound: int | None = None) -> int:
        x = element.value
        if self.message_encoding == "qr":
            y = x if x <= self.q else self.p - x
            return int(y) - 1
        bound = bound or DEFAULT_MESSAGE_BOUND
        table = self._dlog_table
        if len(table) < bound:
            acc = gmpy2.powmod(self.g, len(table), self.p)
            for i in range(len(table), bound):
                table.setdefault(int(acc), i)
                acc = acc * self.g % self.p
        m = table.get(int(x))
        if m is None or m >= bound:
            raise DecodeError(f"plaintext is not g^m for any m below {bound}")
        return m

    # ---- bulk operations ----
    def multi_exp(
        self, bases: Sequence[Element], exponents: Sequence[int], executor: Executor | None = None
    ) -> Element:
        if len(bases) != len(exponents):
            raise ValueError("bases and exponents differ in length")
        raws = [b.value for b in bases]
        q = self.order
        exps = [e if e >= 0 else e % q for e in map(int, exponents)]
        parts = run_chunks(
            executor, _multi_exp_job, len(raws), lambda a, b: (raws[a:b], exps[a:b], self.p)
        )
        acc = mpz(1)
        for part in parts:
            acc = acc * part % self.p
        return Element(self, acc)

    def fixed_base_pows(
        self, base: Element, exponents: Sequence[int], executor: Executor | None = None
    ) -> list[Element]:
        q = self.order
        exps = [e if e >= 0 else e % q for e in map(int, exponents)]
        bits = max(self.order.bit_length(), max((e.bit_length() for e in exps), default=0))
        parts = run_chunks(
            executor,
            _fixed_base_job,
            len(exps),
            lambda a, b: (base.value, self.p, bits, exps[a:b]),
        )
        return [Element(self, v) for part in parts for v in part]

    def pow_many(
        self, bases: Sequence[Element], exponent: int, executor: Executor | None = None
    ) -> list[Element]:
        raws = [b.value for b in bases]
        e = int(exponent)
        parts = run_chunks(executor, _pow_many_job, len(raws), lambda a, b: (raws[a:b], e, self.p))
        return [Element(self, v) for part in parts for v in part]

    def check_members(
        self,
        elements: Sequence[Element],
        rng: RandomSource,
        executor: Executor | None = None,
        check: str = "membership",
    ) -> None:
        super().check_members(elements, rng, executor, check)
        pending = [e for e in elements if not e.checked]
        for i, e in enumerate(pending):
            if not self._cheap_member(e.value):
                raise VerificationError(check, f"element {i} is not in the subgroup")
        if self.family == "modp-schnorr" and pending:
            deltas = [rng.randbits(BATCH_BITS) | 1 for _ in pending]
            combined = self.multi_exp(pending, deltas, executor)
            if gmpy2.powmod(combined.value, self.q, self.p) != 1:
                raise VerificationError(check, "an element is outside the order-q subgroup")


def _multi_exp_job(bases: list[Any], exps: list[int], p: Any) -> Any:
    return multi_exp(bases, exps, p)


def _pow_many_job(bases: list[Any], e: int, p: Any) -> list[Any]:
    return list(gmpy2.powmod_base_list(bases, e, p))


def _fixed_base_job(base: Any, p: Any, bits: int, exps: list[int]) -> list[Any]:
    if len(exps) < MIN_TABLE_USES:
        return [gmpy2.powmod(base, e, p) for e in exps]
    table = fixed_base_table(base, p, bits)
    return [table.pow(e) for e in exps]
