"""Elliptic-curve groups behind the `Group` interface (docs/ec-group.md).

``secp256k1`` runs on libsecp256k1 through coincurve's cffi binding: prime order n, cofactor 1,
33-byte SEC1 compressed encodings. No curve arithmetic is written here: every point operation
is a libsecp256k1 call (parse, serialize, combine, negate, tweak_mul, pubkey_create).

Raw values are ``bytes``: the library's 64-byte affine point (x ‖ y, each 32 bytes
little-endian; checked at start-up), or the empty string for the point at infinity, which the
library cannot hold. The identity is therefore handled here, never passed to the library, and
encodes as 33 zero bytes. Values are plain bytes, so they pickle for process pools.

Single exponentiations use the library's constant-time ladders; the bulk operations
(`multi_exp`, `fixed_base_pows` with a table) are variable-time, like the modular groups.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any, Final

import gmpy2
import numpy as np
from coincurve._libsecp256k1 import ffi, lib
from coincurve.flags import CONTEXT_NONE

from mixnet.encoding import int_to_hex
from mixnet.errors import DecodeError, ParameterError
from mixnet.groups.base import Element, Group
from mixnet.groups.registry import register_group
from mixnet.parallel import run_chunks

__all__ = ["SECP256K1", "Secp256k1Group"]

SECP256K1: Final = "secp256k1"

#: Field prime, group order and generator of secp256k1 (SEC 2 v2, §2.4.1).
P: Final = 2**256 - 2**32 - 977
N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GX: Final = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
GY: Final = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8

#: Canonical encoding of the point at infinity (SEC1 has only the one-byte 0x00).
IDENTITY_BYTES: Final = bytes(33)
#: Domain label of the try-and-increment map to the curve.
HASH_LABEL: Final = b"tohyo/hash-to-group/secp256k1/v1"
#: Default bound when decoding exponentially encoded messages (as in the modular groups).
DEFAULT_MESSAGE_BOUND: Final = 1 << 16
#: Cost model of `multi_exp` in µs, measured on the development VM (docs/ec-group.md §6):
#: one constant-time ladder; one point addition inside a `combine` call; one library call;
#: numpy work per window and per bit of a window; one Horner step.
LADDER_US: Final = 35.0
ADD_US: Final = 0.36
CALL_US: Final = 3.5
WINDOW_US: Final = 40.0
BIT_US: Final = 8.0
HORNER_US: Final = 5.0
#: From this many exponentiations of one base (not g), a comb table pays off.
TABLE_MIN_USES: Final = 2048

_INF: Final = b""
_PUB: Final = "secp256k1_pubkey *"
_PUB_ARRAY: Final = "secp256k1_pubkey[]"
_PAIR: Final = "secp256k1_pubkey *[2]"
_COMPRESSED: Final = 258  # SECP256K1_EC_COMPRESSED

# ---- thin wrappers over libsecp256k1 (raw values are never the identity here) ----
#: Messages from the library's illegal-argument callback. Without a callback of our own the
#: library aborts the process; with it, the call goes on and `_check` raises afterwards.
_ILLEGAL: list[str] = []


@ffi.callback("void(*)(const char *, void *)")  # type: ignore[untyped-decorator]
def _on_illegal(message: Any, data: Any) -> None:
    _ILLEGAL.append(ffi.string(message).decode("ascii", "replace"))


def _make_context() -> Any:
    ctx = ffi.gc(lib.secp256k1_context_create(CONTEXT_NONE), lib.secp256k1_context_destroy)
    lib.secp256k1_context_set_illegal_callback(ctx, _on_illegal, ffi.NULL)
    if not lib.secp256k1_context_randomize(ctx, secrets.token_bytes(32)):
        raise ParameterError("libsecp256k1 context randomisation failed")
    return ctx


_CTX: Any = _make_context()


def _check(what: str) -> None:
    """Raise if the library reported an illegal argument (some calls still return 1)."""
    if _ILLEGAL:
        message = _ILLEGAL.pop()
        _ILLEGAL.clear()
        raise ValueError(f"{what}: not a secp256k1 point value ({message})")


def _ptr(raw: bytes) -> Any:
    if len(raw) != 64:
        raise ValueError("not a secp256k1 point value (64 bytes)")
    return ffi.from_buffer(_PUB, raw)


def _parse(data: bytes) -> bytes | None:
    out = ffi.new(_PUB)
    if not lib.secp256k1_ec_pubkey_parse(_CTX, out, data, len(data)):
        return None
    return bytes(ffi.buffer(out))


def _serialize(raw: bytes) -> bytes:
    out = ffi.new("unsigned char[33]")
    size = ffi.new("size_t *", 33)
    lib.secp256k1_ec_pubkey_serialize(_CTX, out, size, _ptr(raw), _COMPRESSED)
    _check("serialize")
    return bytes(ffi.buffer(out))


def _sum(raws: Sequence[bytes]) -> bytes:
    """Σ raws (identities allowed); the identity if the sum is the point at infinity."""
    live = [r for r in raws if r]
    if not live:
        return _INF
    if len(live) == 1:
        return live[0]
    out = ffi.new(_PUB)
    ins = ffi.new("secp256k1_pubkey *[]", [_ptr(r) for r in live])
    ok = lib.secp256k1_ec_pubkey_combine(_CTX, out, ins, len(live))
    _check("add")
    if not ok:
        return _INF
    return bytes(ffi.buffer(out))


def _add(a: bytes, b: bytes) -> bytes:
    """a + b for two points (neither the identity)."""
    out = ffi.new(_PUB)
    ok = lib.secp256k1_ec_pubkey_combine(_CTX, out, ffi.new(_PAIR, (_ptr(a), _ptr(b))), 2)
    _check("add")
    return bytes(ffi.buffer(out)) if ok else _INF


def _mul(raw: bytes, k: int) -> bytes:
    """k·raw for an integer k (reduced mod n); constant-time ladder in the library."""
    k %= N
    if not raw or k == 0:
        return _INF
    if raw == _G:
        return _base_mul(k)
    out = ffi.new(_PUB)
    ffi.memmove(out, _ptr(raw), 64)
    ok = lib.secp256k1_ec_pubkey_tweak_mul(_CTX, out, k.to_bytes(32, "big"))
    _check("multiply")
    if not ok:
        raise ArithmeticError("libsecp256k1 refused a scalar in [1, n)")
    return bytes(ffi.buffer(out))


def _base_mul(k: int) -> bytes:
    """k·G through the library's precomputed generator table."""
    k %= N
    if k == 0:
        return _INF
    out = ffi.new(_PUB)
    if not lib.secp256k1_ec_pubkey_create(_CTX, out, k.to_bytes(32, "big")):
        raise ArithmeticError("libsecp256k1 refused a scalar in [1, n)")
    return bytes(ffi.buffer(out))


def _neg(raw: bytes) -> bytes:
    if not raw:
        return _INF
    out = ffi.new(_PUB)
    ffi.memmove(out, _ptr(raw), 64)
    lib.secp256k1_ec_pubkey_negate(_CTX, out)
    _check("negate")
    return bytes(ffi.buffer(out))


def _affine(x: int, y: int) -> bytes:
    return x.to_bytes(32, "little") + y.to_bytes(32, "little")


_G: Final = _affine(GX, GY)


# ---- bulk operations ----
def _digits(ks: Sequence[int], c: int = 8) -> Any:
    """The exponents (< 2^256) as an (m, ⌈256/c⌉) array of base-2^c digits, least significant
    first."""
    joined = b"".join(k.to_bytes(32, "little") for k in ks)
    octets = np.frombuffer(joined, dtype=np.uint8).reshape(len(ks), 32)
    if c == 8:
        return octets.astype(np.int64)
    windows = -(-256 // c)
    bits = np.unpackbits(octets, axis=1, bitorder="little")
    bits = np.pad(bits, ((0, 0), (0, windows * c - 256)))
    weights = np.left_shift(1, np.arange(c, dtype=np.int64))
    return bits.reshape(len(ks), windows, c).astype(np.int64) @ weights


def _addresses(array: Any, indices: Any) -> Any:
    """A `secp256k1_pubkey **` over the elements `indices` of a cffi point array."""
    base = np.uint64(int(ffi.cast("uintptr_t", array)))
    addrs = base + np.uint64(64) * np.asarray(indices, dtype=np.uint64)
    return addrs, ffi.cast("secp256k1_pubkey **", ffi.from_buffer(addrs))


def _bucket_window(m: int, bits: int) -> int | None:
    """The window width c for m terms with `bits`-bit exponents, or None when one ladder per
    term is cheaper than the bucket method (by the cost model above)."""

    def cost(c: int) -> float:
        windows = -(-bits // c)
        per_window = ADD_US * m + CALL_US * 2**c + c * (ADD_US * 2 ** (c - 1) + BIT_US) + WINDOW_US
        return float(windows * (per_window + c * HORNER_US))

    c = min(range(2, 17), key=cost)
    return c if cost(c) < LADDER_US * m else None


def _pippenger(raws: Sequence[bytes], ks: Sequence[int], c: int) -> bytes:
    """Σ k_i·P_i by the bucket method; every sum of points is one library call.

    For each c-bit window w the points go into 2^c buckets by their digit and each bucket is
    summed; then for each bit b of the digit the buckets having bit b are summed into
    T[c·w + b], so that Σ k_i·P_i = Σ_t 2^t·T[t], evaluated by Horner with one call per bit.
    """
    m = len(raws)
    nbuckets = 1 << c
    joined = b"".join(raws)
    if len(joined) != 64 * m:
        raise ValueError("not a secp256k1 point value (64 bytes)")
    points = ffi.new(_PUB_ARRAY, m)
    ffi.memmove(points, joined, 64 * m)
    windows = -(-max(k.bit_length() for k in ks) // c)
    digits = _digits(ks, c)[:, :windows]
    buckets = ffi.new(_PUB_ARRAY, nbuckets)
    has_bit = [(np.arange(nbuckets) >> b) & 1 == 1 for b in range(c)]
    terms: list[bytes] = [_INF] * (digits.shape[1] * c)
    combine = lib.secp256k1_ec_pubkey_combine
    out = ffi.new(_PUB)
    for w in range(digits.shape[1]):
        column = digits[:, w]
        counts = np.bincount(column, minlength=nbuckets)
        if counts[0] == m:
            continue
        _keep, ptrs = _addresses(points, np.argsort(column, kind="stable"))
        ends = np.cumsum(counts).tolist()
        live = np.zeros(nbuckets, dtype=bool)
        for j in (np.nonzero(counts[1:])[0] + 1).tolist():
            start = ends[j - 1]
            live[j] = combine(_CTX, buckets + j, ptrs + start, ends[j] - start) == 1
        _check("multi_exp")
        for b in range(c):
            chosen = np.nonzero(live & has_bit[b])[0]
            if len(chosen):
                _keep, bptrs = _addresses(buckets, chosen)
                if combine(_CTX, out, bptrs, len(chosen)):
                    terms[c * w + b] = bytes(ffi.buffer(out))
    acc = _INF
    for t in range(len(terms) - 1, -1, -1):
        acc = _sum([acc, acc, terms[t]])
    return acc


def _multi_exp_job(raws: list[bytes], ks: list[int]) -> bytes:
    live = [(r, k % N) for r, k in zip(raws, ks) if r and k % N]
    bits = max((k.bit_length() for _, k in live), default=0)
    c = _bucket_window(len(live), bits)
    if c is None:
        return _sum([_mul(r, k) for r, k in live])
    return _pippenger([r for r, _ in live], [k for _, k in live], c)


class _CombTable:
    """j·2^{8i}·P for i < 32, j < 256: k·P is then one sum of at most 32 table points."""

    def __init__(self, raw: bytes) -> None:
        rows: list[bytes] = []
        row_base = raw
        for _ in range(32):
            rows.append(bytes(64))  # slot j = 0 is never read
            acc = row_base
            for _ in range(1, 256):
                rows.append(acc)
                acc = _sum([acc, row_base])
            row_base = acc  # 256·row_base
        self.table = ffi.new(_PUB_ARRAY, len(rows))
        ffi.memmove(self.table, b"".join(rows), 64 * len(rows))
        self.base = np.uint64(int(ffi.cast("uintptr_t", self.table)))
        self.offsets = np.uint64(64 * 256) * np.arange(32, dtype=np.uint64)

    def pows(self, ks: Sequence[int]) -> list[bytes]:
        digits = _digits([k % N for k in ks]).astype(np.uint64)
        out_list: list[bytes] = []
        out = ffi.new(_PUB)
        combine = lib.secp256k1_ec_pubkey_combine
        for row in digits:
            nz = row != 0
            if not nz.any():
                out_list.append(_INF)
                continue
            addrs = self.base + self.offsets[nz] + np.uint64(64) * row[nz]
            ptrs = ffi.cast("secp256k1_pubkey **", ffi.from_buffer(addrs))
            ok = combine(_CTX, out, ptrs, len(addrs))
            out_list.append(bytes(ffi.buffer(out)) if ok else _INF)
        return out_list


def _fixed_base_job(raw: bytes, ks: list[int]) -> list[bytes]:
    if raw == _G:
        return [_base_mul(k) for k in ks]
    if not raw:
        return [_INF] * len(ks)
    if len(ks) < TABLE_MIN_USES:
        return [_mul(raw, k) for k in ks]
    return _CombTable(raw).pows(ks)


def _hash_to_curve(data: bytes) -> bytes:
    """Try-and-increment: x = SHAKE-256(label ‖ counter ‖ data) mod p (384 bits), parity bit."""
    counter = 0
    while True:
        block = hashlib.shake_256(HASH_LABEL + counter.to_bytes(4, "big") + data).digest(49)
        x = int.from_bytes(block[:48], "big") % P
        point = _parse(bytes([2 | (block[48] & 1)]) + x.to_bytes(32, "big"))
        if point is not None:
            return point
        counter += 1


class Secp256k1Group(Group):
    """secp256k1 (SEC 2) as a multiplicative group: `a * b` is point addition."""

    def __init__(self) -> None:
        self.name = SECP256K1
        self.family = "ec-secp256k1"
        self.order = N
        self.security_bits = 128
        self.production = True
        self.element_bytes = 33
        self.scalar_bytes = 32
        self.message_encoding = "exponential"
        self.check_parameters()
        self._dlog_table: dict[bytes, int] = {}
        self._description = {
            "family": self.family,
            "name": self.name,
            "curve": "secp256k1: y^2 = x^3 + 7 over F_p (SEC 2 v2)",
            "p": int_to_hex(P, 32),
            "q": int_to_hex(N, 32),
            "g": _serialize(_G).hex(),
            "encoding": "SEC1 compressed; identity = 33 zero bytes",
            "hash_to_group": HASH_LABEL.decode(),
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secp256k1Group, ())

    @staticmethod
    def check_parameters() -> None:
        """Re-check the curve constants and the library (what a verifier recomputes).

        p and n prime, G on y² = x³ + 7, n·G = ∞ through the library, and the library's point
        layout equal to the documented x ‖ y (little-endian), on which pickled values rely.
        """
        if not (gmpy2.is_prime(P, 64) and gmpy2.is_prime(N, 64)):
            raise ParameterError("secp256k1 constants: p or n is not prime")
        if (GY * GY - GX**3 - 7) % P:
            raise ParameterError("secp256k1 constants: G is not on the curve")
        if _parse(b"\x04" + GX.to_bytes(32, "big") + GY.to_bytes(32, "big")) != _G:
            raise ParameterError("libsecp256k1's point layout is not the documented x ‖ y")
        if _add(_base_mul(N - 1), _G) != _INF:
            raise ParameterError("libsecp256k1: n·G is not the point at infinity")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secp256k1Group)

    def __hash__(self) -> int:
        return hash((self.name, self.order))

    # ---- raw operations ----
    def raw_mul(self, a: Any, b: Any) -> Any:
        if not a:
            return b
        if not b:
            return a
        return _add(a, b)

    def raw_inv(self, a: Any) -> Any:
        return _neg(a)

    def raw_pow(self, a: Any, e: int) -> Any:
        return _mul(a, e)

    def raw_eq(self, a: Any, b: Any) -> bool:
        return bool(a == b)

    def raw_to_bytes(self, a: Any) -> bytes:
        return _serialize(a) if a else IDENTITY_BYTES

    def raw_from_bytes(self, data: bytes) -> Any:
        data = bytes(data)
        if len(data) != 33:
            raise DecodeError("a secp256k1 element has 33 bytes")
        if data == IDENTITY_BYTES:
            return _INF
        if data[0] not in (2, 3):
            raise DecodeError("a secp256k1 element starts with 02 or 03 (compressed SEC1)")
        if int.from_bytes(data[1:], "big") >= P:
            raise DecodeError("secp256k1 x-coordinate not below p")
        point = _parse(data)
        if point is None:
            raise DecodeError("not a point of secp256k1: x^3 + 7 is not a square")
        if _serialize(point) != data:  # pragma: no cover - the checks above make it canonical
            raise DecodeError("non-canonical secp256k1 encoding")
        return point

    def raw_identity(self) -> Any:
        return _INF

    def raw_generator(self) -> Any:
        return _G

    def raw_hash_to_group(self, data: bytes) -> Any:
        return _hash_to_curve(bytes(data))

    def description(self) -> dict[str, Any]:
        return dict(self._description)

    # ---- messages: m·G, decoded by baby-step giant-step ----
    def encode_message(self, m: int) -> Element:
        if not 0 <= m < N:
            raise ValueError("message outside [0, q)")
        return Element(self, _base_mul(m))

    def decode_message(self, element: Element, bound: int | None = None) -> int:
        bound = bound or DEFAULT_MESSAGE_BOUND
        table = self._dlog_table
        size = min(bound, DEFAULT_MESSAGE_BOUND)
        if len(table) < size:
            acc = _base_mul(len(table))
            for i in range(len(table), size):
                table.setdefault(acc, i)
                acc = _sum([acc, _G])
        stride = _neg(_base_mul(size))
        x = element.value
        for giant in range(0, bound, size):
            m = table.get(x)
            if m is not None and giant + m < bound:
                return giant + m
            x = _sum([x, stride])
        raise DecodeError(f"plaintext is not m·G for any m below {bound}")

    # ---- bulk operations ----
    def multi_exp(
        self, bases: Sequence[Element], exponents: Sequence[int], executor: Executor | None = None
    ) -> Element:
        if len(bases) != len(exponents):
            raise ValueError("bases and exponents differ in length")
        raws = [b.value for b in bases]
        ks = [int(e) for e in exponents]
        parts = run_chunks(executor, _multi_exp_job, len(raws), lambda a, b: (raws[a:b], ks[a:b]))
        return Element(self, _sum(parts))

    def fixed_base_pows(
        self, base: Element, exponents: Sequence[int], executor: Executor | None = None
    ) -> list[Element]:
        ks = [int(e) for e in exponents]
        parts = run_chunks(executor, _fixed_base_job, len(ks), lambda a, b: (base.value, ks[a:b]))
        return [Element(self, v) for part in parts for v in part]


register_group(SECP256K1, Secp256k1Group)
