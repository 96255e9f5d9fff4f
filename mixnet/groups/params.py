"""Group parameters: published standards and verifiable generation from a seed.

Every parameter set carries a `generation` record that says how it was made, and
`check_generation` re-derives it from that record alone (docs/protocol.md §1.3):

- ``rfc7919``/``rfc3526``: the safe primes of RFC 7919 (ffdhe, from e) and RFC 3526 (MODP,
  from π), recomputed from their defining formulas with 8,000-bit arithmetic.
- ``tohyo-seed-v1``: a Schnorr group p = 2·q·r + 1 with q and r prime, or a safe prime
  p = 2·q + 1, expanded from a published seed with SHAKE-256; the only free choice is a
  recorded search counter, so nobody can plant a trapdoor.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import gmpy2
from gmpy2 import mpz

from mixnet.encoding import encode
from mixnet.errors import ParameterError

__all__ = [
    "GroupParameters",
    "check_generation",
    "expand_seed",
    "generate_safe_prime_group",
    "generate_schnorr_group",
    "standard_safe_prime",
]

PRIMALITY_ROUNDS = 40


@dataclass(frozen=True)
class GroupParameters:
    """p, q, g of a prime-order subgroup of Z_p^*, with the record of how they were made."""

    name: str
    family: str  # "modp-safe" (p = 2q + 1) or "modp-schnorr" (p = 2qr + 1)
    p: int
    q: int
    g: int
    security_bits: int
    production: bool
    generation: dict[str, Any]


def expand_seed(seed: bytes, label: str, bits: int) -> int:
    """`bits` uniform bits from SHAKE-256 over the TLV of (domain, seed, label)."""
    nbytes = (bits + 7) // 8
    digest = hashlib.shake_256(encode(["tohyo/group-generation/v1", seed, label])).digest(nbytes)
    return int.from_bytes(digest, "big") >> (8 * nbytes - bits)


def _formula(kind: str, bits: int, constant: int) -> int:
    ctx = gmpy2.get_context().copy()
    ctx.precision = 8000
    with gmpy2.context(ctx):
        if kind == "rfc7919":
            scaled = mpz(gmpy2.floor(mpz(2) ** (bits - 130) * gmpy2.exp(1)))
            return int(mpz(2) ** bits - mpz(2) ** (bits - 64) + (scaled + constant) * 2**64 - 1)
        if kind == "rfc3526":
            scaled = mpz(gmpy2.floor(mpz(2) ** (bits - 130) * gmpy2.const_pi()))
            return int(mpz(2) ** bits - mpz(2) ** (bits - 64) - 1 + 2**64 * (scaled + constant))
    raise ParameterError(f"unknown standard {kind}")


_STANDARD_CONSTANTS = {
    ("rfc7919", 2048): 560316,
    ("rfc7919", 3072): 2625351,
    ("rfc3526", 2048): 124476,
    ("rfc3526", 3072): 1690314,
}


def standard_safe_prime(name: str, kind: str, bits: int, *, production: bool) -> GroupParameters:
    """A safe-prime group from RFC 7919 or RFC 3526; g = 4 generates the QR subgroup."""
    constant = _STANDARD_CONSTANTS[(kind, bits)]
    p = _formula(kind, bits, constant)
    security = 128 if bits >= 3072 else 112
    generation = {"method": kind, "bits": bits, "constant": constant}
    return GroupParameters(name, "modp-safe", p, (p - 1) // 2, 4, security, production, generation)


def generate_safe_prime_group(name: str, seed: bytes, bits: int) -> GroupParameters:
    """A safe prime from `seed`: q = next_prime(start + 2k) style search, counter recorded."""
    start = expand_seed(seed, "q", bits - 1) | (1 << (bits - 2)) | 1
    k = 0
    while True:
        q = start + 2 * k
        if gmpy2.is_prime(q, PRIMALITY_ROUNDS) and gmpy2.is_prime(2 * q + 1, PRIMALITY_ROUNDS):
            break
        k += 1
    generation = {"method": "tohyo-seed-v1", "seed": seed.hex(), "bits": bits, "counter": k}
    p = 2 * q + 1
    return GroupParameters(name, "modp-safe", p, q, 4, 0, False, generation)


def _schnorr_start(seed: bytes, p_bits: int, q_bits: int) -> tuple[int, int]:
    q = int(gmpy2.next_prime(expand_seed(seed, "q", q_bits) | (1 << (q_bits - 1))))
    if q.bit_length() != q_bits:
        raise ParameterError("q overflowed its bit length; choose another seed")
    # r ranges over the odd numbers that make p = 2qr + 1 exactly p_bits long
    low = (1 << (p_bits - 1)) // (2 * q) + 1
    high = ((1 << p_bits) - 1) // (2 * q)
    r0 = (low + expand_seed(seed, "r", p_bits) % ((high - low) // 2)) | 1
    return q, r0


def _schnorr_candidate(seed: bytes, p: int, cofactor: int, j: int) -> int:
    """Candidate j for g: (expand(seed, "g" ‖ decimal j, |p| + 128) mod p)^cofactor."""
    h = expand_seed(seed, f"g{j}", p.bit_length() + 128) % p
    return int(gmpy2.powmod(h, cofactor, p))


def _schnorr_generator(seed: bytes, p: int, cofactor: int) -> tuple[int, int]:
    j = 0
    while True:
        g = _schnorr_candidate(seed, p, cofactor, j)
        if g not in (0, 1):
            return g, j
        j += 1


def _sieve_candidates(r0: int, q: int, first: int, count: int) -> list[int]:
    """Offsets k in [first, first+count) where neither r0+2k nor 2q(r0+2k)+1 has a small factor."""
    import numpy as np  # only used while generating parameters

    alive = np.ones(count, dtype=bool)
    for s in _small_primes(1 << 16):
        # r = r0 + 2k ≡ 0 (mod s)  ⇔  k ≡ −r0 · 2^{-1}
        inv2 = pow(2, -1, s)
        k_r = (-r0 * inv2 - first) % s
        alive[k_r::s] = False
        # p = 2q·r0 + 1 + 4q·k ≡ 0 (mod s), for s not dividing 4q
        if q % s:
            inv = pow(4 * q, -1, s)
            k_p = ((-(2 * q * r0 + 1)) * inv - first) % s
            alive[k_p::s] = False
    return [first + int(i) for i in np.flatnonzero(alive)]


def _small_primes(limit: int) -> list[int]:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(sieve[i * i :: i]))
    return [i for i in range(3, limit) if sieve[i]]


def generate_schnorr_group(
    name: str, seed: bytes, p_bits: int, q_bits: int, *, production: bool = False
) -> GroupParameters:
    """p = 2·q·r + 1 with q (q_bits) and r prime, so the cofactor of p − 1 is 2·r.

    Searching for a 3072-bit p takes minutes; the result is recorded with its counter and
    re-checked in milliseconds by `check_generation`.
    """
    q, r0 = _schnorr_start(seed, p_bits, q_bits)
    block = 1 << 16
    first = 0
    while True:
        for k in _sieve_candidates(r0, q, first, block):
            r = r0 + 2 * k
            p = 2 * q * r + 1
            if p.bit_length() != p_bits:
                raise ParameterError("p overflowed its bit length; choose another seed")
            if gmpy2.powmod(2, r - 1, r) != 1 or gmpy2.powmod(2, p - 1, p) != 1:
                continue
            if gmpy2.is_prime(r, PRIMALITY_ROUNDS) and gmpy2.is_prime(p, PRIMALITY_ROUNDS):
                g, j = _schnorr_generator(seed, p, 2 * r)
                generation = {
                    "method": "tohyo-seed-v1",
                    "seed": seed.hex(),
                    "p_bits": p_bits,
                    "q_bits": q_bits,
                    "counter": k,
                    "g_counter": j,
                }
                security = 128 if p_bits >= 3072 and q_bits >= 256 else 0
                return GroupParameters(
                    name, "modp-schnorr", p, q, g, security, production, generation
                )
        first += block


def check_generation(params: GroupParameters) -> None:
    """Re-derive `params` from its generation record; raise `ParameterError` if anything differs.

    A malformed record (missing or mistyped fields) is a `ParameterError` too.
    """
    try:
        _check_generation(params)
    except ParameterError:
        raise
    except (KeyError, ValueError, TypeError) as exc:
        raise ParameterError(f"malformed generation record: {exc!r}") from exc


def _check_generation(params: GroupParameters) -> None:
    gen = params.generation
    method = gen.get("method")
    p, q, g = params.p, params.q, params.g
    if method in ("rfc7919", "rfc3526"):
        standard = _STANDARD_CONSTANTS.get((method, gen["bits"]))
        if standard is None:
            raise ParameterError(f"{method} defines no {gen['bits']}-bit group here")
        if gen["constant"] != standard:
            raise ParameterError(f"the recorded constant is not the {method} constant")
        expected = _formula(method, gen["bits"], standard)
        if p != expected:
            raise ParameterError(f"p is not the {method} {gen['bits']}-bit prime")
        if q != (p - 1) // 2 or g != 4:
            raise ParameterError("q or g differ from the standard construction")
    elif method == "tohyo-seed-v1" and params.family == "modp-safe":
        seed = bytes.fromhex(gen["seed"])
        bits = gen["bits"]
        start = expand_seed(seed, "q", bits - 1) | (1 << (bits - 2)) | 1
        if q != start + 2 * gen["counter"] or p != 2 * q + 1 or g != 4:
            raise ParameterError("safe prime does not follow from its seed and counter")
    elif method == "tohyo-seed-v1" and params.family == "modp-schnorr":
        seed = bytes.fromhex(gen["seed"])
        q_expected, r0 = _schnorr_start(seed, gen["p_bits"], gen["q_bits"])
        r = r0 + 2 * gen["counter"]
        if q != q_expected or p != 2 * q * r + 1 or p.bit_length() != gen["p_bits"]:
            raise ParameterError("Schnorr group does not follow from its seed and counter")
        if not gmpy2.is_prime(r, PRIMALITY_ROUNDS):
            raise ParameterError("the cofactor r is not prime")
        g_counter = gen["g_counter"]
        if g != _schnorr_candidate(seed, p, 2 * r, g_counter) or g in (0, 1):
            raise ParameterError("g does not follow from the seed")
        if any(_schnorr_candidate(seed, p, 2 * r, j) not in (0, 1) for j in range(g_counter)):
            raise ParameterError("g_counter is not the first that gives a generator")
    else:
        raise ParameterError(f"unknown generation method {method!r}")
    if not (gmpy2.is_prime(p, PRIMALITY_ROUNDS) and gmpy2.is_prime(q, PRIMALITY_ROUNDS)):
        raise ParameterError("p or q is not prime")
    if (p - 1) % q or gmpy2.powmod(g, q, p) != 1 or g in (0, 1):
        raise ParameterError("g does not generate the order-q subgroup")
