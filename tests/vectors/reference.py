"""Independent group arithmetic for re-checking the vectors: plain integers, no mixnet.groups.

`ModArith` works in the order-q subgroup of Z_p^* from the p, q, g that a test passes in;
`Secp256k1` is affine arithmetic on y² = x³ + 7 over F_p with the SEC 2 constants written out
again here, a SEC1 decoder of its own and the try-and-increment map of docs/ec-group.md §4.
It is slow and not constant-time: it checks test vectors and does nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

Value = Any  # an int mod p, or an affine point (x, y) / None for the point at infinity
Point = tuple[int, int] | None  # an affine point of secp256k1; None is the point at infinity


class Arith:
    """The operations a checker needs, written multiplicatively as in the protocol."""

    one: Value
    g: Value
    q: int
    element_bytes: int

    def mul(self, a: Value, b: Value) -> Value:
        raise NotImplementedError

    def inv(self, a: Value) -> Value:
        raise NotImplementedError

    def exp(self, a: Value, k: int) -> Value:
        raise NotImplementedError

    def val(self, text: str) -> Value:
        """Decode an element's hex (the checker's own decoder; raises ValueError)."""
        raise NotImplementedError

    def to_hex(self, a: Value) -> str:
        raise NotImplementedError

    def message(self, m: int) -> Value:
        raise NotImplementedError

    def hash_to_group(self, data: bytes) -> Value:
        raise NotImplementedError

    def div(self, a: Value, b: Value) -> Value:
        return self.mul(a, self.inv(b))

    def prod(self, values: Sequence[Value]) -> Value:
        acc = self.one
        for v in values:
            acc = self.mul(acc, v)
        return acc

    def mexp(self, bases: Sequence[Value], exps: Sequence[int]) -> Value:
        assert len(bases) == len(exps)
        return self.prod([self.exp(b, e) for b, e in zip(bases, exps)])

    def vals(self, texts: Sequence[str]) -> list[Value]:
        return [self.val(t) for t in texts]


class ModArith(Arith):
    """The order-q subgroup of Z_p^*: safe-prime groups (QR message encoding) or Schnorr
    groups (m ↦ g^m)."""

    def __init__(self, p: int, q: int, g: int, *, safe: bool) -> None:
        self.p, self.q, self.g, self.safe = p, q, g, safe
        self.one = 1
        self.element_bytes = (p.bit_length() + 7) // 8

    def mul(self, a: int, b: int) -> int:
        return a * b % self.p

    def inv(self, a: int) -> int:
        return pow(a, -1, self.p)

    def exp(self, a: int, k: int) -> int:
        return pow(a, k, self.p)

    def val(self, text: str) -> int:
        return int(text, 16)

    def to_hex(self, a: int) -> str:
        return format(a, f"0{2 * self.element_bytes}x")

    def message(self, m: int) -> int:
        p, q = self.p, self.q
        if self.safe:  # the quadratic residue among ±(m + 1)
            v = m + 1
            return v if pow(v, q, p) == 1 else p - v
        return pow(self.g, m, p)

    def hash_to_group(self, data: bytes) -> int:
        p = self.p
        nbytes = (p.bit_length() + 128 + 7) // 8
        counter = 0
        while True:
            block = hashlib.shake_256(
                b"tohyo/hash-to-group/v1" + counter.to_bytes(4, "big") + data
            ).digest(nbytes)
            x = int.from_bytes(block, "big") % p
            y = x * x % p if self.safe else pow(x, (p - 1) // self.q, p)
            if y > 1:
                return y
            counter += 1


#: secp256k1 (SEC 2 v2, §2.4.1), typed in again.
EC_P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
EC_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
EC_GX = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
EC_GY = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8
EC_B = 7


class NotAPoint(ValueError):
    """Refused by the checker's SEC1 decoder; `reason` as in encoding.json."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def ec_sqrt(a: int) -> int | None:
    """A square root mod p (p ≡ 3 mod 4), or None if a is not a square."""
    r = pow(a, (EC_P + 1) // 4, EC_P)
    return r if r * r % EC_P == a % EC_P else None


class Secp256k1(Arith):
    """Affine points; None is the point at infinity (encoded as 33 zero bytes)."""

    def __init__(self) -> None:
        self.one = None
        self.g = (EC_GX, EC_GY)
        self.q = EC_N
        self.element_bytes = 33

    @staticmethod
    def on_curve(point: Point) -> bool:
        if point is None:
            return True
        x, y = point
        return 0 <= x < EC_P and 0 <= y < EC_P and (y * y - x**3 - EC_B) % EC_P == 0

    def mul(self, a: Value, b: Value) -> Value:  # point addition
        if a is None:
            return b
        if b is None:
            return a
        (x1, y1), (x2, y2) = a, b
        if x1 == x2:
            if (y1 + y2) % EC_P == 0:
                return None
            slope = 3 * x1 * x1 * pow(2 * y1, -1, EC_P) % EC_P
        else:
            slope = (y2 - y1) * pow(x2 - x1, -1, EC_P) % EC_P
        x3 = (slope * slope - x1 - x2) % EC_P
        return (x3, (slope * (x1 - x3) - y1) % EC_P)

    def inv(self, a: Value) -> Value:
        return None if a is None else (a[0], -a[1] % EC_P)

    def exp(self, a: Value, k: int) -> Value:  # k·a, double and add
        acc, addend = None, a
        k %= EC_N
        while k:
            if k & 1:
                acc = self.mul(acc, addend)
            addend = self.mul(addend, addend)
            k >>= 1
        return acc

    def val(self, text: str) -> Value:
        """SEC1 compressed, 33 bytes, or 33 zero bytes for infinity; NotAPoint otherwise."""
        if len(text) != 66:
            raise NotAPoint("length")
        if any(ch not in "0123456789abcdef" for ch in text):
            raise NotAPoint("hex")
        data = bytes.fromhex(text)
        if data == bytes(33):
            return None
        if data[0] not in (2, 3):
            raise NotAPoint("prefix")
        x = int.from_bytes(data[1:], "big")
        if x >= EC_P:
            raise NotAPoint("x ≥ p")
        y = ec_sqrt(x**3 + EC_B)
        if y is None:
            raise NotAPoint("not on the curve")
        if y % 2 != data[0] % 2:
            y = EC_P - y
        return (x, y)

    def to_hex(self, a: Value) -> str:
        if a is None:
            return "00" * 33
        return bytes([2 | (a[1] & 1)]).hex() + format(a[0], "064x")

    def message(self, m: int) -> Value:
        return self.exp(self.g, m)

    def hash_to_group(self, data: bytes) -> Value:
        """docs/ec-group.md §4, from its text."""
        counter = 0
        while True:
            block = hashlib.shake_256(
                b"tohyo/hash-to-group/secp256k1/v1" + counter.to_bytes(4, "big") + data
            ).digest(49)
            x = int.from_bytes(block[:48], "big") % EC_P
            y = ec_sqrt(x**3 + EC_B)
            if y is not None:
                return (x, y if y % 2 == block[48] & 1 else EC_P - y)
            counter += 1


# ---- the Fiat–Shamir transcript (docs/protocol.md §2, §3), from the text, not mixnet/ ----


def tlv(tag: int, payload: bytes, count: int | None = None) -> bytes:
    """tag (1 byte) ‖ length (8 bytes big-endian; the item count for lists and maps) ‖ payload."""
    return bytes([tag]) + (len(payload) if count is None else count).to_bytes(8, "big") + payload


def tlv_bytes(data: bytes) -> bytes:
    return tlv(0x01, data)


def tlv_str(text: str) -> bytes:
    return tlv(0x02, text.encode("utf-8"))


def tlv_int(n: int) -> bytes:
    assert n >= 0
    return tlv(0x03, n.to_bytes((n.bit_length() + 7) // 8, "big"))


def tlv_list(items: Sequence[bytes]) -> bytes:
    """A list from its items' encodings."""
    return tlv(0x04, b"".join(items), len(items))


def tlv_element(hex_text: str) -> bytes:
    return tlv(0x05, bytes.fromhex(hex_text))


def tlv_scalar(hex_text: str) -> bytes:
    return tlv(0x06, bytes.fromhex(hex_text))


def tlv_json(value: Any) -> bytes:
    """A JSON value of strings, non-negative integers, lists and objects (a group description)."""
    if isinstance(value, str):
        return tlv_str(value)
    if isinstance(value, bool):
        raise TypeError("no booleans here")
    if isinstance(value, int):
        return tlv_int(value)
    if isinstance(value, list):
        return tlv_list([tlv_json(v) for v in value])
    if isinstance(value, dict):
        keys = sorted(value)
        body = b"".join(tlv_str(k) + tlv_json(value[k]) for k in keys)
        return tlv(0x07, body, len(keys))
    raise TypeError(type(value).__name__)


class RefTranscript:
    """SHA-256 over TLV(["tohyo/transcript/v1", context]), then TLV(label) ‖ TLV(value) per item;
    a challenge is SHAKE-256(TLV(["tohyo/challenge/v1", digest so far, label])), then absorbed
    under its label as a bytes value."""

    def __init__(self, context_tlv: bytes) -> None:
        self.state = hashlib.sha256(tlv_list([tlv_str("tohyo/transcript/v1"), context_tlv]))

    def absorb(self, label: str, value_tlv: bytes) -> None:
        self.state.update(tlv_str(label) + value_tlv)

    def challenge(self, label: str, nbytes: int) -> tuple[bytes, bytes]:
        """(the digest it is drawn from, the output bytes)."""
        digest = self.state.copy().digest()
        request = tlv_list([tlv_str("tohyo/challenge/v1"), tlv_bytes(digest), tlv_str(label)])
        out = hashlib.shake_256(request).digest(nbytes)
        self.absorb(label, tlv_bytes(out))
        return digest, out


def challenge_length(kind: str, q: int, count: int = 1) -> int:
    """Output bytes of a challenge: `mod` (|q| + 128 bits), `batch` (count × 128 bits),
    `u` (count × 160 bits), `bits128` (128 bits)."""
    if kind == "mod":
        return (q.bit_length() + 128 + 7) // 8
    return {"batch": 16 * count, "u": 20 * count, "bits128": 16}[kind]


def challenge_mod(out: bytes, q: int) -> int:
    bits = q.bit_length() + 128
    return (int.from_bytes(out, "big") >> (8 * len(out) - bits)) % q


def challenge_blocks(out: bytes, count: int, bits: int) -> list[int]:
    size = (bits + 7) // 8
    shift = 8 * size - bits
    return [int.from_bytes(out[i * size : (i + 1) * size], "big") >> shift for i in range(count)]
