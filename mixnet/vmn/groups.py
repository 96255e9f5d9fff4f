"""Verificatum's groups over tohyo's group arithmetic (docs/vmn.md §4).

Two kinds are supported, each mapped onto a tohyo `Group` so that no arithmetic is written
twice:

- ``com.verificatum.arithm.ModPGroup`` given by explicit parameters (p, q, g, encoding) with
  p = 2q + 1 equal to one of tohyo's safe primes (``modp2048``, ``ffdhe3072``,
  ``test-safe-256``); g may be any generator of the quadratic residues.
- ``com.verificatum.arithm.ECqPGroup`` named ``secp256k1``.

Encodings (all byte trees): an integer is its two's-complement big-endian bytes; a ModPGroup
element is a leaf of exactly as many bytes as p's two's complement (257 for a 2048-bit p); a
curve point is a node of two leaves (x, y), each as long as the field prime's two's complement
(33 bytes), the point at infinity being (−1, −1), i.e. all bytes 0xFF; an exponent is a leaf
as long as q's two's complement. Decoding refuses any other length, out-of-range integers and
non-members (a ModPGroup element must be a quadratic residue, a point must lie on the curve).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

import gmpy2

from mixnet.errors import DecodeError, ParameterError
from mixnet.groups.base import Element, Group
from mixnet.groups.modp import ModpGroup
from mixnet.groups.registry import get_group
from mixnet.vmn.bytetree import ByteTree, Leaf, Node, children, decode, encode, leaf_data
from mixnet.vmn.oracle import Prg

__all__ = ["EC_CLASS", "MODP_CLASS", "VmnGroup", "parse_pgroup"]

MODP_CLASS: Final = "com.verificatum.arithm.ModPGroup"
EC_CLASS: Final = "com.verificatum.arithm.ECqPGroup"
#: tohyo's safe-prime groups a Verificatum ModPGroup may coincide with.
SAFE_PRIME_GROUPS: Final = ("modp2048", "ffdhe3072", "test-safe-256")
#: Verificatum's message encoding number for safe-prime moduli.
SAFEPRIME_ENCODING: Final = 1
#: secp256k1's field prime (SEC 2 v2, §2.4.1); the curve is y² = x³ + 7.
SECP256K1_P: Final = 2**256 - 2**32 - 977


def _twos_len(n: int) -> int:
    """Bytes of Java's `BigInteger.toByteArray()` for n > 0 (room for a sign bit)."""
    return n.bit_length() // 8 + 1


def _signed(data: bytes) -> int:
    return int.from_bytes(data, "big", signed=True)


def _int_leaf(value: int) -> Leaf:
    """Java's minimal two's complement of a non-negative integer."""
    return Leaf(value.to_bytes(_twos_len(value) if value else 1, "big", signed=True))


class VmnGroup:
    """One Verificatum group: its marshalled description and its element and exponent codecs."""

    def __init__(self, group: Group, kind: str, tree: ByteTree) -> None:
        self.group = group
        self.kind = kind  # "modp" or "ec"
        self.tree = tree
        self.order = group.order
        self.scalar_len = _twos_len(group.order)
        if kind == "modp":
            assert isinstance(group, ModpGroup)
            self.p = int(group.p)
            self.element_len = _twos_len(self.p)
        else:
            self.p = SECP256K1_P
            self.element_len = _twos_len(SECP256K1_P)

    # ---- the marshalled description ----
    def human(self) -> str:
        if self.kind == "modp":
            bits = self.order.bit_length()
            return f"ModPGroup(safe-prime modulus=2*order+1. order bit-length = {bits})"
        return "ECqPGroup(secp256k1)"

    def pgroup_string(self) -> str:
        """The ``<pgroup>`` value Verificatum's ``vog`` writes for this group."""
        return f"{self.human()}::{encode(self.tree).hex()}"

    @classmethod
    def from_tohyo(cls, group: Group) -> VmnGroup:
        """The Verificatum description of a tohyo group (safe-prime modular or secp256k1)."""
        if group.name == "secp256k1":
            return cls(group, "ec", Node((_class_leaf(EC_CLASS), Leaf(b"secp256k1"))))
        if isinstance(group, ModpGroup) and group.family == "modp-safe":
            p, q, g = int(group.p), int(group.q), int(group.g)
            payload = Node(
                (
                    _int_leaf(p),
                    _int_leaf(q),
                    Leaf(g.to_bytes(_twos_len(p), "big")),
                    Leaf(SAFEPRIME_ENCODING.to_bytes(4, "big")),
                )
            )
            return cls(group, "modp", Node((_class_leaf(MODP_CLASS), payload)))
        raise ParameterError(f"group {group.name!r} has no Verificatum counterpart here")

    # ---- elements ----
    def element_tree(self, e: Element) -> ByteTree:
        if self.kind == "modp":
            return Leaf(int(e.value).to_bytes(self.element_len, "big"))
        raw = e.to_bytes()
        if raw == bytes(33):  # tohyo's encoding of the point at infinity
            minus_one = b"\xff" * self.element_len
            return Node((Leaf(minus_one), Leaf(minus_one)))
        x = int.from_bytes(raw[1:], "big")
        y = _curve_y(x, raw[0] & 1)
        return Node(
            (
                Leaf(x.to_bytes(self.element_len, "big")),
                Leaf(y.to_bytes(self.element_len, "big")),
            )
        )

    def element_from_tree(self, tree: ByteTree) -> Element:
        if self.kind == "modp":
            data = leaf_data(tree, "group element")
            if len(data) != self.element_len:
                raise DecodeError(f"a group element has {self.element_len} bytes")
            x = _signed(data)
            if not 0 < x < self.p:
                raise DecodeError("group element outside [1, p)")
            return self.group.element_from_bytes(x.to_bytes(self.group.element_bytes, "big"))
        xt, yt = children(tree, 2, "curve point")
        xd, yd = leaf_data(xt, "x-coordinate"), leaf_data(yt, "y-coordinate")
        if len(xd) != self.element_len or len(yd) != self.element_len:
            raise DecodeError(f"a curve coordinate has {self.element_len} bytes")
        x, y = _signed(xd), _signed(yd)
        if x == -1 and y == -1:
            return self.group.identity()
        if not (0 <= x < self.p and 0 <= y < self.p):
            raise DecodeError("curve coordinate outside [0, p)")
        if (y * y - x * x * x - 7) % self.p:
            raise DecodeError("point is not on secp256k1")
        return self.group.element_from_bytes(bytes([2 | (y & 1)]) + x.to_bytes(32, "big"))

    def elements_tree(self, elements: Sequence[Element]) -> Node:
        return Node(tuple(self.element_tree(e) for e in elements))

    def elements_from_tree(self, tree: ByteTree, count: int | None = None) -> list[Element]:
        return [self.element_from_tree(t) for t in children(tree, count, "element array")]

    # ---- exponents (Verificatum's PField of order q) ----
    def scalar_tree(self, value: int) -> Leaf:
        return Leaf((value % self.order).to_bytes(self.scalar_len, "big"))

    def scalar_from_tree(self, tree: ByteTree) -> int:
        data = leaf_data(tree, "exponent")
        if len(data) != self.scalar_len:
            raise DecodeError(f"an exponent has {self.scalar_len} bytes")
        value = _signed(data)
        if not 0 <= value < self.order:
            raise DecodeError("exponent outside [0, q)")
        return value

    def scalars_tree(self, values: Sequence[int]) -> Node:
        return Node(tuple(self.scalar_tree(v) for v in values))

    def scalars_from_tree(self, tree: ByteTree, count: int | None = None) -> list[int]:
        return [self.scalar_from_tree(t) for t in children(tree, count, "exponent array")]

    # ---- random elements from a PRG (independent generators) ----
    def random_elements(self, prg: Prg, count: int, statdist: int) -> list[Element]:
        """Verificatum's `randomElementArray(count, prg, statdist)`.

        ModPGroup: t of |p| + statdist bits from the PRG, h = (t mod p)^2. ECqPGroup: x of
        |p| + statdist bits reduced mod p, kept when x³ + 7 is a non-zero square, with the
        smaller of its two square roots as y.
        """
        bits = self.p.bit_length() + statdist
        out: list[Element] = []
        if self.kind == "modp":
            for _ in range(count):
                t = prg.integer(bits) % self.p
                out.append(self.element_from_tree(Leaf(self._modp_square(t))))
            return out
        while len(out) < count:
            x = prg.integer(bits) % self.p
            fx = (x * x * x + 7) % self.p
            if gmpy2.legendre(fx, self.p) != 1:
                continue
            y = int(gmpy2.powmod(fx, (self.p + 1) // 4, self.p))
            y = min(y, self.p - y)
            out.append(self.group.element_from_bytes(bytes([2 | (y & 1)]) + x.to_bytes(32, "big")))
        return out

    def _modp_square(self, t: int) -> bytes:
        return (t * t % self.p).to_bytes(self.element_len, "big")


def _class_leaf(name: str) -> Leaf:
    return Leaf(name.encode("ascii"))


def _curve_y(x: int, parity: int) -> int:
    y = int(gmpy2.powmod((x * x * x + 7) % SECP256K1_P, (SECP256K1_P + 1) // 4, SECP256K1_P))
    return y if (y & 1) == parity else SECP256K1_P - y


def parse_pgroup(text: str) -> VmnGroup:
    """The group of a ``<pgroup>`` value (``description::hex of the marshalled byte tree``)."""
    _, sep, hexpart = text.strip().rpartition("::")
    if not sep:
        raise DecodeError("a Verificatum group is written 'description::hex'")
    try:
        raw = bytes.fromhex(hexpart)
    except ValueError:
        raise DecodeError("the group's byte tree is not hexadecimal") from None
    cls_tree, payload = children(decode(raw), 2, "marshalled group")
    cls_name = leaf_data(cls_tree, "group class").decode("ascii", "replace")
    if cls_name == EC_CLASS:
        if leaf_data(payload, "curve name") != b"secp256k1":
            raise ParameterError("only the curve secp256k1 is supported")
        return VmnGroup.from_tohyo(get_group("secp256k1"))
    if cls_name != MODP_CLASS:
        raise ParameterError(f"unsupported Verificatum group class {cls_name!r}")
    p_t, q_t, g_t, enc_t = children(payload, 4, "ModPGroup")
    p = _signed(leaf_data(p_t, "modulus"))
    q = _signed(leaf_data(q_t, "order"))
    g = _signed(leaf_data(g_t, "generator"))
    if leaf_data(enc_t, "encoding") != SAFEPRIME_ENCODING.to_bytes(4, "big"):
        raise ParameterError("only the safe-prime message encoding is supported")
    for name in SAFE_PRIME_GROUPS:
        base = get_group(name)
        assert isinstance(base, ModpGroup)
        if int(base.p) == p and int(base.q) == q:
            break
    else:
        raise ParameterError("the modulus is not one of tohyo's safe primes")
    if not (1 < g < p and gmpy2.legendre(g, p) == 1):
        raise ParameterError("the generator is not a quadratic residue other than 1")
    group: Group = base
    if g != int(base.g):
        group = ModpGroup(dataclasses.replace(base.params, name=f"{name}-g{g:x}"[:64], g=g))
    vg = VmnGroup.from_tohyo(group)
    vg.tree = Node((cls_tree, payload))  # hash what the protocol info says, byte for byte
    return vg
