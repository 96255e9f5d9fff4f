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


# ------------------------------------------------------------------ expected outcomes
#
# What a verifier must answer for a case, from this module's arithmetic alone: "ok",
# "DecodeError" (a value this module's decoder refuses), or the id of the first equation that
# fails, in the order of docs/protocol.md §6 and §8.3. The Fiat–Shamir challenges (and the
# shuffle's generators) are inputs: the caller replays the transcript, which the vector tests
# check on their own (TLV bytes by an independent encoder, generators by hashing here).


class Refused(ValueError):
    """This module's decoder refuses a value: the library must raise DecodeError."""


def _hex(text: object, width: int) -> int:
    if not isinstance(text, str) or len(text) != 2 * width:
        raise Refused(f"not {2 * width} hex digits")
    if any(ch not in "0123456789abcdef" for ch in text):
        raise Refused("not lowercase hex")
    return int(text, 16)


def element(a: Arith, text: object) -> Value:
    """A subgroup element from its hex (SEC1 compressed on the curve), or Refused."""
    if isinstance(a, Secp256k1):
        if not isinstance(text, str):
            raise Refused("not a string")
        try:
            return a.val(text)
        except NotAPoint as exc:
            raise Refused(exc.reason) from exc
    assert isinstance(a, ModArith)
    x = _hex(text, a.element_bytes)
    if not 0 < x < a.p or pow(x, a.q, a.p) != 1:
        raise Refused("not in the order-q subgroup")
    return x


def elements(a: Arith, texts: object) -> list[Value]:
    if not isinstance(texts, list):
        raise Refused("not a list")
    return [element(a, t) for t in texts]


def scalar(a: Arith, text: object, bound: int | None = None) -> int:
    """A response below `bound` (default q), written in the width of q or of the bound."""
    bound = a.q if bound is None else bound
    v = _hex(text, (bound.bit_length() + 7) // 8 if bound != a.q else (a.q.bit_length() + 7) // 8)
    if v >= bound:
        raise Refused("out of range")
    return v


def rows(a: Arith, texts: object, width: int | None = None) -> list[list[tuple[Value, Value]]]:
    """Rows of [a, b] pairs (a non-empty list each, of `width` when given)."""
    if not isinstance(texts, list):
        raise Refused("not a list of rows")
    out = []
    for row in texts:
        if not isinstance(row, list) or not row or (width is not None and len(row) != width):
            raise Refused("not a row")
        pairs = []
        for ct in row:
            if not isinstance(ct, list) or len(ct) != 2:
                raise Refused("not a pair")
            pairs.append((element(a, ct[0]), element(a, ct[1])))
        out.append(pairs)
    return out


def cp_equations(a: Arith, g1: Value, x_pub: Value, g2: Value, d: Value, proof: Any, c: int) -> str:
    """CP1 and CP2 for decoded values; `proof` is (t1, t2, s)."""
    t1, t2, s = proof
    if a.exp(g1, s) != a.mul(t1, a.exp(x_pub, c)):
        return "CP1"
    if a.exp(g2, s) != a.mul(t2, a.exp(d, c)):
        return "CP2"
    return "ok"


def cp_proof(a: Arith, data: object) -> tuple[Value, Value, int]:
    if not isinstance(data, dict) or set(data) != {"t1", "t2", "s"}:
        raise Refused("a Chaum–Pedersen proof is {t1, t2, s}")
    return element(a, data["t1"]), element(a, data["t2"]), scalar(a, data["s"])


def batch_outcome(
    a: Arith, x_pub: Value, bases: list[Value], factors: list[Value], proof: Any, derive: Any
) -> str:
    """CPB0 lengths, then CP1/CP2 on ∏B_i^{e_i}, ∏D_i^{e_i}; derive() = (weights, c)."""
    if len(bases) != len(factors) or not bases:
        return "CPB0"
    weights, c = derive()
    return cp_equations(a, a.g, x_pub, a.mexp(bases, weights), a.mexp(factors, weights), proof, c)


def chaum_pedersen_outcome(a: Arith, case: dict[str, Any], derive: Any) -> str:
    """derive() = (weights or None, c) for the case as it stands."""
    st = case["statement"]
    try:
        proof = cp_proof(a, case["proof"])
        if case["batch"]:
            x_pub, bases, factors = (
                element(a, st["x_pub"]),
                elements(a, st["bases"]),
                elements(a, st["factors"]),
            )
        else:
            g1, x_pub, g2, d = (element(a, st[k]) for k in ("g1", "x_pub", "g2", "d"))
    except Refused:
        return "DecodeError"
    if case["batch"]:
        return batch_outcome(a, x_pub, bases, factors, proof, derive)
    return cp_equations(a, g1, x_pub, g2, d, proof, derive()[1])


def decryption_outcome(a: Arith, case: dict[str, Any], derive: Any) -> str:
    """D0, then the batched proof over the b's; derive() = (weights, c)."""
    st = case["statement"]
    try:
        x_pub = element(a, st["x_pub"])
        cts = [ct for row in rows(a, st["rows"]) for ct in row]
        factors = elements(a, st["factors"])
        proof = cp_proof(a, case["proof"])
    except Refused:
        return "DecodeError"
    if len(cts) != len(factors):
        return "D0"
    return batch_outcome(a, x_pub, [b for _, b in cts], factors, proof, derive)


def shuffle_outcome(a: Arith, case: dict[str, Any], derive: Any) -> str:
    """TW0 (decoding), TW1…TW5; derive() = (u, c, h, [h_1..h_N]) for the case as it stands."""
    n, width = case["n"], case["width"]
    st, pr = case["statement"], case["proof"]
    bits = case["intermediate"]["s_prime_bound_bits"]
    try:
        keys = {
            "c",
            "c_hat",
            "t1",
            "t2",
            "t3",
            "t4a",
            "t4b",
            "t_hat",
            "s1",
            "s2",
            "s3",
            "s4",
            "s_hat",
            "s_prime",
        }
        if not isinstance(pr, dict) or set(pr) != keys:
            raise Refused("the fields of a shuffle proof")
        for key, length in (
            ("c", n),
            ("c_hat", n),
            ("t_hat", n),
            ("s_hat", n),
            ("s_prime", n),
            ("t4a", width),
            ("t4b", width),
            ("s4", width),
        ):
            if not isinstance(pr[key], list) or len(pr[key]) != length:
                raise Refused(f"{key} must have {length} items")
        cc, c_hat, t_hat = elements(a, pr["c"]), elements(a, pr["c_hat"]), elements(a, pr["t_hat"])
        t4a, t4b = elements(a, pr["t4a"]), elements(a, pr["t4b"])
        t1, t2, t3 = (element(a, pr[k]) for k in ("t1", "t2", "t3"))
        s1, s2, s3 = (scalar(a, pr[k]) for k in ("s1", "s2", "s3"))
        s4, s_hat = [scalar(a, v) for v in pr["s4"]], [scalar(a, v) for v in pr["s_hat"]]
        s_prime = [scalar(a, v, None if bits is None else 1 << bits) for v in pr["s_prime"]]
        pk = element(a, st["pk"])
        inputs, outputs = rows(a, st["inputs"], width), rows(a, st["outputs"], width)
    except Refused:
        return "DecodeError"
    if len(inputs) != len(outputs) or len(inputs) != n:
        return "TW0"
    u, c, h, hs = derive()
    q, g = a.q, a.g
    u_prod = 1
    for v in u:
        u_prod = u_prod * v % q
    if a.mul(t1, a.exp(a.div(a.prod(cc), a.prod(hs)), c)) != a.exp(g, s1):
        return "TW1"
    if a.mul(t2, a.exp(a.div(c_hat[-1], a.exp(h, u_prod)), c)) != a.exp(g, s2):
        return "TW2"
    if a.mul(t3, a.exp(a.mexp(cc, u), c)) != a.mul(a.exp(g, s3), a.mexp(hs, s_prime)):
        return "TW3"
    for k in range(width):
        a_star = a.mexp([row[k][0] for row in inputs], u)
        b_star = a.mexp([row[k][1] for row in inputs], u)
        if a.prod([t4a[k], a.exp(a_star, c), a.exp(pk, s4[k])]) != a.mexp(
            [row[k][0] for row in outputs], s_prime
        ):
            return "TW4a"
        if a.prod([t4b[k], a.exp(b_star, c), a.exp(g, s4[k])]) != a.mexp(
            [row[k][1] for row in outputs], s_prime
        ):
            return "TW4b"
    prev = [h, *c_hat[:-1]]
    for i in range(n):
        if a.mul(t_hat[i], a.exp(c_hat[i], c)) != a.mul(
            a.exp(g, s_hat[i]), a.exp(prev[i], s_prime[i])
        ):
            return "TW5"
    return "ok"


def schnorr_outcome(a: Arith, case: dict[str, Any], derive: Any) -> str:
    """S1; derive() = c."""
    st, pr = case["statement"], case["proof"]
    try:
        if not isinstance(pr, dict) or set(pr) != {"t", "s"}:
            raise Refused("a Schnorr proof is {t, s}")
        t, s = element(a, pr["t"]), scalar(a, pr["s"])
        base, y = element(a, st["base"]), element(a, st["y"])
    except Refused:
        return "DecodeError"
    return "ok" if a.exp(base, s) == a.mul(t, a.exp(y, derive())) else "S1"


def encryption_outcome(a: Arith, case: dict[str, Any], derive: Any) -> str:
    """E1 for each ciphertext; derive() = c."""
    st, pr = case["statement"], case["proof"]
    try:
        element(a, st["pk"])  # refused if it does not decode; E1 does not use it
        row = rows(a, [st["row"]])[0]
        if not isinstance(pr, dict) or set(pr) != {"t", "s"}:
            raise Refused("an encryption proof is {t, s}")
        if not all(isinstance(pr[k], list) and len(pr[k]) == len(row) for k in ("t", "s")):
            raise Refused("one commitment and response per ciphertext")
        t, s = elements(a, pr["t"]), [scalar(a, v) for v in pr["s"]]
    except Refused:
        return "DecodeError"
    c = derive()
    for (_, b), tj, sj in zip(row, t, s):
        if a.exp(a.g, sj) != a.mul(tj, a.exp(b, c)):
            return "E1"
    return "ok"


def rows_outcome(a: Arith, case: dict[str, Any], width: int) -> str:
    """ElGamal rows: "ok" when every row decodes, else "DecodeError"."""
    try:
        rows(a, case["rows"], width)
    except Refused:
        return "DecodeError"
    return "ok"
