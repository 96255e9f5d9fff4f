"""The group interface every family implements (docs/protocol.md §1).

A `Group` is a cyclic group of prime order q written multiplicatively, with a fixed generator
g. `Element` and `Scalar` are distinct immutable types bound to their group; arithmetic between
different groups is refused. Families implement a small set of *raw* operations on their own
value type (an `mpz` for the modular groups, a point for curves); the bulk operations that the
proofs use — multi-exponentiation, fixed-base exponentiation, batch membership — are methods
that families may override with faster code, and that accept a `concurrent.futures.Executor`
to spread large inputs over processes.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any, Final

from mixnet.encoding import TAG_ELEMENT, TAG_SCALAR, encode, hex_to_int, int_to_hex
from mixnet.errors import DecodeError, VerificationError
from mixnet.rng import RandomSource

__all__ = ["Element", "Group", "Scalar"]

#: Bits of the random exponents in small-exponent batch checks (soundness error 2^-128).
BATCH_BITS: Final = 128


class Element:
    """A member of a group's order-q subgroup. Immutable; built only by its group.

    `checked` is set when the group itself vouches for membership: the element was decoded
    (with its membership test) or made by the group (generator, identity, hash to group).
    `check_members` skips such elements and tests every other one, so an element built
    directly from a raw value is always tested before a proof relies on it.

    The canonical encoding is kept once known (`encoded`): an element decoded from its bytes
    keeps them, any other is encoded once, at its first `to_bytes`, so rows handed from the
    board to a transcript and back to the board are not encoded again.
    """

    __slots__ = ("checked", "encoded", "group", "value")
    group: Group
    value: Any
    checked: bool
    encoded: bytes | None

    def __init__(
        self, group: Group, value: Any, checked: bool = False, encoded: bytes | None = None
    ) -> None:
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "checked", checked)
        object.__setattr__(self, "encoded", encoded)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("elements are immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Element, (self.group, self.value))

    def _same(self, other: Element) -> None:
        if other.group != self.group:
            raise ValueError("elements of different groups")

    def __mul__(self, other: Element) -> Element:
        self._same(other)
        return Element(self.group, self.group.raw_mul(self.value, other.value))

    def __truediv__(self, other: Element) -> Element:
        self._same(other)
        g = self.group
        return Element(g, g.raw_mul(self.value, g.raw_inv(other.value)))

    def __pow__(self, exponent: Scalar | int) -> Element:
        if isinstance(exponent, Scalar):
            if exponent.group.order != self.group.order:
                raise ValueError("scalar of a different group")
            e = exponent.value
        else:
            e = int(exponent) % self.group.order
        return Element(self.group, self.group.raw_pow(self.value, e))

    def inverse(self) -> Element:
        return Element(self.group, self.group.raw_inv(self.value))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Element)
            and other.group == self.group
            and self.group.raw_eq(self.value, other.value)
        )

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def to_bytes(self) -> bytes:
        data = self.encoded
        if data is None:
            data = self.group.raw_to_bytes(self.value)
            object.__setattr__(self, "encoded", data)
        return data

    def to_hex(self) -> str:
        return self.to_bytes().hex()

    def encode_tlv(self) -> bytes:
        data = self.to_bytes()
        return bytes([TAG_ELEMENT]) + len(data).to_bytes(8, "big") + data

    def __repr__(self) -> str:
        return f"Element({self.group.name}, {self.to_hex()[:16]}…)"


class Scalar:
    """An integer modulo the group order q. Immutable."""

    __slots__ = ("group", "value")
    group: Group
    value: int

    def __init__(self, group: Group, value: int) -> None:
        if not 0 <= value < group.order:
            raise DecodeError("scalar out of range [0, q)")
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "value", int(value))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("scalars are immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Scalar, (self.group, self.value))

    def _other(self, other: Scalar | int) -> int:
        if isinstance(other, Scalar):
            if other.group.order != self.group.order:
                raise ValueError("scalars of different groups")
            return other.value
        return int(other)

    def __add__(self, other: Scalar | int) -> Scalar:
        return Scalar(self.group, (self.value + self._other(other)) % self.group.order)

    __radd__ = __add__

    def __sub__(self, other: Scalar | int) -> Scalar:
        return Scalar(self.group, (self.value - self._other(other)) % self.group.order)

    def __rsub__(self, other: Scalar | int) -> Scalar:
        return Scalar(self.group, (self._other(other) - self.value) % self.group.order)

    def __mul__(self, other: Scalar | int) -> Scalar:
        return Scalar(self.group, (self.value * self._other(other)) % self.group.order)

    __rmul__ = __mul__

    def __neg__(self) -> Scalar:
        return Scalar(self.group, (-self.value) % self.group.order)

    def inverse(self) -> Scalar:
        if self.value == 0:
            raise ZeroDivisionError("zero has no inverse")
        return Scalar(self.group, pow(self.value, -1, self.group.order))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Scalar)
            and other.group.order == self.group.order
            and other.value == self.value
        )

    def __hash__(self) -> int:
        return hash((self.group.order, self.value))

    def __int__(self) -> int:
        return self.value

    def to_bytes(self) -> bytes:
        return self.value.to_bytes(self.group.scalar_bytes, "big")

    def to_hex(self) -> str:
        return int_to_hex(self.value, self.group.scalar_bytes)

    def encode_tlv(self) -> bytes:
        data = self.to_bytes()
        return bytes([TAG_SCALAR]) + len(data).to_bytes(8, "big") + data

    def __repr__(self) -> str:
        return f"Scalar({self.group.name}, {self.to_hex()[:16]}…)"


class Group(ABC):
    """A prime-order group. Subclasses provide the raw operations and the description."""

    name: str
    family: str
    order: int
    security_bits: int
    production: bool
    element_bytes: int
    scalar_bytes: int
    #: "qr" (any m in [0, q − 1)) or "exponential" (small m, decoded by table)
    message_encoding: str

    # ---- raw operations on the family's value type ----
    @abstractmethod
    def raw_mul(self, a: Any, b: Any) -> Any: ...

    @abstractmethod
    def raw_inv(self, a: Any) -> Any: ...

    @abstractmethod
    def raw_pow(self, a: Any, e: int) -> Any: ...

    @abstractmethod
    def raw_eq(self, a: Any, b: Any) -> bool: ...

    @abstractmethod
    def raw_to_bytes(self, a: Any) -> bytes: ...

    @abstractmethod
    def raw_from_bytes(self, data: bytes) -> Any:
        """Decode canonical bytes; raise `DecodeError` unless they encode a subgroup member."""

    @abstractmethod
    def raw_identity(self) -> Any: ...

    @abstractmethod
    def raw_generator(self) -> Any: ...

    @abstractmethod
    def raw_hash_to_group(self, data: bytes) -> Any:
        """Map bytes to a subgroup element with no known discrete log (one-way)."""

    @abstractmethod
    def description(self) -> dict[str, Any]:
        """The canonical, JSON-compatible description (manifests, transcripts)."""

    @abstractmethod
    def encode_message(self, m: int) -> Element:
        """Embed a message integer m ≥ 0 as a group element."""

    @abstractmethod
    def decode_message(self, element: Element, bound: int | None = None) -> int:
        """Invert `encode_message`; `bound` caps the search for exponential encodings."""

    # ---- identity and comparison ----
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Group) and other.description() == self.description()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<group {self.name}>"

    def encode_tlv(self) -> bytes:
        return encode(self.description())

    def fingerprint(self) -> bytes:
        """SHA-256 of the canonical description: binds the group into every transcript."""
        return hashlib.sha256(self.encode_tlv()).digest()

    # ---- elements and scalars ----
    def generator(self) -> Element:
        return Element(self, self.raw_generator(), checked=True)

    def identity(self) -> Element:
        return Element(self, self.raw_identity(), checked=True)

    def element_from_bytes(self, data: bytes) -> Element:
        if len(data) != self.element_bytes:
            raise DecodeError(f"a {self.name} element has {self.element_bytes} bytes")
        data = bytes(data)
        return Element(self, self.raw_from_bytes(data), checked=True, encoded=data)

    def element_from_hex(self, text: object) -> Element:
        value = hex_to_int(text, self.element_bytes)
        return self.element_from_bytes(value.to_bytes(self.element_bytes, "big"))

    def elements_from_hex(
        self,
        texts: Sequence[object],
        rng: RandomSource | None = None,
        executor: Executor | None = None,
    ) -> list[Element]:
        """Decode many elements; families may batch the membership test (same guarantees)."""
        return [self.element_from_hex(t) for t in texts]

    def scalar(self, value: int) -> Scalar:
        return Scalar(self, value)

    def scalar_from_hex(self, text: object) -> Scalar:
        return Scalar(self, hex_to_int(text, self.scalar_bytes))

    def random_scalar(self, rng: RandomSource) -> Scalar:
        return Scalar(self, rng.randbelow(self.order))

    def hash_to_element(self, data: bytes) -> Element:
        return Element(self, self.raw_hash_to_group(data), checked=True)

    # ---- bulk operations (override for speed) ----
    def multi_exp(
        self, bases: Sequence[Element], exponents: Sequence[int], executor: Executor | None = None
    ) -> Element:
        """∏ bases[i]^exponents[i] for non-negative integer exponents (not reduced mod q)."""
        if len(bases) != len(exponents):
            raise ValueError("bases and exponents differ in length")
        acc = self.raw_identity()
        for b, e in zip(bases, exponents):
            acc = self.raw_mul(acc, self.raw_pow(b.value, e))
        return Element(self, acc)

    def fixed_base_pows(
        self, base: Element, exponents: Sequence[int], executor: Executor | None = None
    ) -> list[Element]:
        """[base^e for e in exponents]; families use precomputed tables for a fixed base."""
        return [Element(self, self.raw_pow(base.value, e)) for e in exponents]

    def pow_many(
        self, bases: Sequence[Element], exponent: int, executor: Executor | None = None
    ) -> list[Element]:
        """[b^exponent for b in bases] (decryption factors: many bases, one secret)."""
        return [Element(self, self.raw_pow(b.value, exponent)) for b in bases]

    def check_members(
        self,
        elements: Sequence[Element],
        rng: RandomSource,
        executor: Executor | None = None,
        check: str = "membership",
    ) -> None:
        """Raise `VerificationError(check)` unless every element lies in the order-q subgroup.

        Elements the group vouches for (`Element.checked`) are skipped; every other element is
        tested, by default by re-decoding its canonical bytes. Families override this with
        batched tests (and call this first for the group check).
        """
        for i, e in enumerate(elements):
            if e.group != self:
                raise VerificationError(check, f"element {i} belongs to another group")
        if type(self).check_members is not Group.check_members:
            return  # the family's override tests the pending elements itself
        for i, e in enumerate(elements):
            if e.checked:
                continue
            try:
                self.raw_from_bytes(self.raw_to_bytes(e.value))
            except (DecodeError, ValueError) as exc:
                raise VerificationError(check, f"element {i} is not in the group") from exc
